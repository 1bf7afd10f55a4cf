"""The ``safeflag`` command: a thin shell over :class:`safeflag.Safeflag`.

Exit codes:

====  ==========================================================================
0     success: every record was read and checked
1     finished, but some records could not be read (their lines carry ``errors``;
      ``batch`` also writes them, raw, to its quarantine file)
2     could not run: bad arguments, unreadable register or settings, database error
141   whoever read standard output stopped reading (``| head``): the command stopped
      quietly, as one killed by SIGPIPE would (what was checked stays recorded)
====  ==========================================================================

Readable messages that are not arrivals (ADT^A03 discharges, ORU results, ...) get a line
saying so and do not make the status 1, in ``check`` and ``batch`` alike: an ADT feed carries
them routinely. Every
``check`` and ``batch`` look-up is audited (``--user``, default the operating-system user);
``safeflag audit`` lists the audit.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

from .arrivals import ArrivalOrder
from .errors import InputError, NotAnArrival, SafeflagError
from .ingest import FORMATS, check_inputs, read_attendances
from .models import CheckResult
from .output import to_fhir_bundle, to_json_line, to_text
from .pipeline import Safeflag
from .settings import Settings

EXIT_OK, EXIT_RECORD_ERRORS, EXIT_CANNOT_RUN = 0, 1, 2

log = logging.getLogger(__name__)

# An unexpected error still prints its traceback, but never the local variables typer would
# show by default: they hold the message being read, names and birth dates included.
app = typer.Typer(add_completion=False, no_args_is_help=True,
                  pretty_exceptions_show_locals=False,
                  help="Safeguarding flags and injury-pattern prompts for children attending "
                       "emergency departments.")
register_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False,
                           help="Manage the safeguarding register.")
app.add_typer(register_app, name="register")

DbOption = typer.Option(None, "--db", envvar="SAFEFLAG_DB",
                        help="SQLite database (default: $SAFEFLAG_DB, else "
                             "$XDG_DATA_HOME/safeflag/safeflag.db, else "
                             "~/.local/share/safeflag/safeflag.db).")
ConfigOption = typer.Option(None, "--config", help="Settings TOML file (thresholds, match bands).")
UserOption = typer.Option(None, "--user", envvar="SAFEFLAG_USER",
                          help="Who is asking, for the audit: a user or system id "
                               "(default: $SAFEFLAG_USER or the operating-system user).")


def _fail(exc: BaseException) -> "typer.Exit":
    typer.echo(f"safeflag: {exc}", err=True)
    return typer.Exit(EXIT_CANNOT_RUN)


#: The status of a command whose standard output's reader went away (128 + SIGPIPE).
EXIT_READER_GONE = 128 + 13


@contextmanager
def _reader_may_go() -> Iterator[None]:
    """Writing to standard output: if whoever reads it stops (``| head``), stop quietly, as
    other command-line tools do, with the status of one killed by SIGPIPE. Output still
    buffered for the closed pipe then goes nowhere instead of failing again at exit."""
    try:
        yield
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(EXIT_READER_GONE) from None


def _open(db: Optional[Path], config: Optional[Path], user: Optional[str] = None,
          channel: str = "library") -> Safeflag:
    settings = Settings.from_toml(config) if config else Settings()
    return Safeflag.open(db, settings, user=user, channel=channel)


def _open_for_checks(db: Optional[Path], config: Optional[Path], user: Optional[str],
                     channel: str) -> Safeflag:
    """The database ``check`` and ``batch`` record in. A database path given (``--db``,
    ``SAFEFLAG_DB``) in a folder that does not exist is a mistyped path: refused, rather than
    a new, empty database answering "no flags". A new database, or one with no register
    loaded, is said on standard error: its checks cannot show a register's flags."""
    from .store import default_db_path
    path = Path(db) if db is not None else default_db_path()
    if db is not None and not path.parent.is_dir():
        raise InputError(f"no folder {path.parent} for the database {path.name}; check --db "
                         "or SAFEFLAG_DB (a new database is made only in a folder that exists)")
    new = str(path) != ":memory:" and not path.exists()
    sf = _open(path, config, user, channel)
    if new:
        log.warning("there was no database at %s; a new, empty one was made", path)
    if sf.store.register_info() is None:
        log.warning("no register is loaded in %s: no register flags can be shown, only what "
                    "its own attendance history holds; load one with `safeflag register load`",
                    path)
    return sf


@register_app.command("load")
def register_load(path: Path = typer.Argument(..., help="Register: a CSV folder or a FHIR "
                                                       "Bundle (.json)."),
                  db: Optional[Path] = DbOption, config: Optional[Path] = ConfigOption) -> None:
    """Replace the register with the CSV folder or FHIR Bundle at PATH (all or nothing)."""
    try:
        with _open(db, config) as sf:
            info = sf.load_register(path, progress=_relink_progress())
    except SafeflagError as exc:
        raise _fail(exc) from exc
    typer.echo(f"register loaded: {info.persons} persons, {info.relationships} relationships, "
               f"{info.plans} plans")
    if info.relinked or info.unlinked:
        typer.echo(f"earlier attendees of persons this register no longer holds: "
                   f"{info.relinked} matched again, {info.unlinked} left unlinked")


def _relink_progress(every: float = 5.0) -> Callable[[int, int], None]:
    """A line on stderr at most every ``every`` seconds (and at the end) while a register load
    matches earlier attendees again: after a renumbering that can take minutes."""
    last = [time.monotonic()]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= every:
            last[0] = now
            typer.echo(f"matching earlier attendees again: {done:,} of {total:,}", err=True)
    return show


def _check_input_format(input_format: Optional[str]) -> None:
    if input_format is not None and input_format not in FORMATS:
        raise InputError(f"--input-format must be one of {', '.join(FORMATS)} (or left out to "
                         "detect it)")


def _emit(result: CheckResult, fmt: str) -> str:
    if fmt == "text":
        return to_text(result)
    if fmt == "fhir":      # one line per record, as json: several records read as NDJSON
        return json.dumps(to_fhir_bundle(result), ensure_ascii=False, separators=(",", ":"))
    return to_json_line(result)


@app.command()
def check(file: str = typer.Argument("-", help="Attendance file (HL7 v2, FHIR JSON, CSV) or - "
                                                "for standard input."),
          db: Optional[Path] = DbOption, config: Optional[Path] = ConfigOption,
          fmt: str = typer.Option("json", "--format", help="json, text or fhir."),
          input_format: Optional[str] = typer.Option(None, "--input-format",
                                                     help="hl7, fhir, ndjson or csv "
                                                          "(default: detected)"),
          user: Optional[str] = UserOption,
          strict: bool = typer.Option(False, "--strict",
                                      help="Also validate each message against its HL7 "
                                           "version's structure (hl7apy) or FHIR R4 "
                                           "(fhir.resources); refuse those that fail.")
          ) -> None:
    """Check one attendance (or each in FILE) and print its flags and prompts."""
    if fmt not in ("json", "text", "fhir"):
        raise _fail(InputError("--format must be json, text or fhir"))
    failed = False
    try:
        _check_input_format(input_format)
        check_inputs([file])
        # checked in input order: a record that arrived before one read earlier is said
        items = ArrivalOrder(file).watch(read_attendances(file, fmt=input_format,
                                                          strict=strict))
        first = next(items, None)           # before the database: an empty input changes nothing
        if first is None:
            raise InputError(f"{'standard input' if file == '-' else file} holds no record; "
                             "nothing was checked")
        with _open_for_checks(db, config, user, channel="check") as sf, _reader_may_go():
            for item in itertools.chain([first], items):
                result = sf.check_item(item)
                # a readable message that is not an arrival (A03, ORU) is reported, not failed
                failed = failed or (bool(result.errors) and not isinstance(item, NotAnArrival))
                typer.echo(_emit(result, fmt))
    except SafeflagError as exc:
        raise _fail(exc) from exc
    raise typer.Exit(EXIT_RECORD_ERRORS if failed else EXIT_OK)


@app.command()
def batch(inputs: list[str] = typer.Argument(..., help="Attendance files, each in arrival order; "
                                                       "merged by arrival time."),
          out: Path = typer.Option(..., "--out", help="NDJSON output, one line per record."),
          db: Optional[Path] = DbOption, config: Optional[Path] = ConfigOption,
          input_format: Optional[str] = typer.Option(None, "--input-format",
                                                     help="hl7, fhir, ndjson or csv "
                                                          "(default: detected per input)"),
          workers: Optional[int] = typer.Option(None, "--workers", min=1,
                                                help="Processes reading and matching records "
                                                     "(default: the number of CPUs; 1 = none)."),
          quarantine: Optional[Path] = typer.Option(None, "--quarantine",
                                                    help="Where unreadable records go, raw "
                                                         "(default: OUT.quarantine.ndjson, "
                                                         "OUT being the whole --out path)."),
          user: Optional[str] = UserOption,
          strict: bool = typer.Option(False, "--strict",
                                      help="Also validate each HL7 message (hl7apy) or FHIR "
                                           "resource (fhir.resources); those that fail are "
                                           "quarantined. Much slower: for a new interface."),
          summary_json: Optional[Path] = typer.Option(None, "--summary-json",
                                                      help="Also write the summary as JSON."),
          nice: int = typer.Option(10, "--nice", min=0, max=19,
                                   help="Run at this much lower CPU priority (its workers too), "
                                        "so that triage checks on the same machine answer "
                                        "first; 0 keeps the normal priority.")
          ) -> None:
    """Check every attendance in INPUTS and write one JSON line each to OUT.

    Exit status: 0 every record checked; 1 some records unreadable (see the quarantine file);
    2 could not run. A run that is stopped can simply be run again: nothing is recorded twice.
    """
    from .batch import claim_output, default_workers, run_batch
    try:
        _check_input_format(input_format)
        if summary_json is not None and (summary_json.is_dir()
                                         or not summary_json.parent.is_dir()):
            raise InputError(f"--summary-json {summary_json}: not a file in an existing folder; "
                             "nothing was checked")
        check_inputs(inputs)
    except SafeflagError as exc:
        raise _fail(exc) from exc
    if nice and hasattr(os, "nice"):          # POSIX; workers inherit it
        os.nice(nice)
    try:
        # the output's locks before the database: a run refused (another batch is writing the
        # same --out) makes no database and changes none
        with claim_output(out, quarantine) as claim, \
                _open_for_checks(db, config, user, channel="batch") as sf:
            summary = run_batch(sf, inputs, out, fmt=input_format,
                                workers=workers or default_workers(), quarantine=quarantine,
                                strict=strict, claim=claim)
        if summary_json is not None:
            summary_json.write_text(json.dumps(summary.as_dict(), indent=2) + "\n",
                                    encoding="utf-8")
    except (SafeflagError, OSError) as exc:
        raise _fail(exc) from exc
    typer.echo(summary.describe(), err=True)
    raise typer.Exit(EXIT_RECORD_ERRORS if summary.errors else EXIT_OK)


@app.command()
def audit(db: Optional[Path] = DbOption,
          since: Optional[str] = typer.Option(None, "--since",
                                              help="From this date (YYYY-MM-DD, from midnight "
                                                   "UTC) or ISO date/time (UTC when it has no "
                                                   "offset): audit times are UTC."),
          user: Optional[str] = typer.Option(None, "--user", help="Only this user's look-ups."),
          fmt: str = typer.Option("csv", "--format", help="csv or json."),
          out: Optional[Path] = typer.Option(None, "--out",
                                             help="Write here instead of standard output.")
          ) -> None:
    """List who looked up which attendance and whose flags were shown (identifiers only)."""
    from .audit import AUDIT_FORMATS, parse_since, write_audit
    from .store import default_db_path, open_store
    if fmt not in AUDIT_FORMATS:
        raise _fail(InputError("--format must be csv or json"))
    try:
        start = parse_since(since) if since else None
        if out is not None and (out.is_dir() or not out.parent.is_dir()):
            raise InputError(f"--out {out}: not a file in an existing folder; nothing was "
                             "written")
        path = db if db is not None else default_db_path()
        if not Path(path).is_file():       # never make an empty database to read from
            raise InputError(f"no database at {path}; check --db or SAFEFLAG_DB")
        store = open_store(path)
        try:
            if out is None:
                with _reader_may_go():
                    write_audit(store.audit_entries(since=start, user=user), sys.stdout, fmt)
            else:
                with open(out, "w", encoding="utf-8", newline="") as handle:
                    count = write_audit(store.audit_entries(since=start, user=user), handle, fmt)
                typer.echo(f"{count} audit entries written to {out}", err=True)
        finally:
            store.close()
    except (SafeflagError, OSError) as exc:
        raise _fail(exc) from exc


@app.command()
def demo(db: Optional[Path] = typer.Option(None, "--db",
                                           help="A new database file to keep the scenario in "
                                                "(default: a temporary one); an existing file "
                                                "is refused."),
         fmt: str = typer.Option("text", "--format", help="text or json.")) -> None:
    """Tell the Child L story: what the hospital could have shown at each attendance."""
    from .demo import run_demo
    with tempfile.TemporaryDirectory() as tmp:
        path = db or Path(tmp) / "demo.db"
        try:
            if db is not None and db.exists():     # never replace a real register
                raise InputError(f"{db} already exists; the demo loads its own register and "
                                 "history into a new database. Leave --db out (a temporary "
                                 "one) or name a file that does not exist; nothing was changed")
            with Safeflag.open(path) as sf, _reader_may_go():
                if fmt == "text":
                    typer.echo("The Child L scenario (synthetic names; dates, plans and injuries "
                               "from the serious case review)\n")
                for step, result in run_demo(sf):
                    if fmt == "json":
                        typer.echo(to_json_line(result))
                        continue
                    typer.echo("=" * 78)
                    if step is not None:
                        typer.echo(f"{result.arrival:%d %B %Y} — {step.child}: {step.review}")
                        typer.echo(f"The review: the hospital could have shown: {step.expected}")
                    typer.echo("safeflag shows:")
                    typer.echo(to_text(result))
                    typer.echo("")
        except SafeflagError as exc:
            raise _fail(exc) from exc


def main() -> None:
    """Console entry point."""
    logging.basicConfig(level=logging.WARNING, format="safeflag: %(levelname)s %(message)s")
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
