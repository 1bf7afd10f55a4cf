"""A short human summary for a terminal or a triage script's log."""

from __future__ import annotations

from ..models import CheckResult

__all__ = ["to_text"]

_PLAN_NAMES = {"CP": "child protection plan", "LAC": "looked after", "CIN": "child in need plan",
               "CP-UNBORN": "pre-birth protection plan"}


def to_text(result: CheckResult, *, explain: bool = True) -> str:
    lines = [f"Attendance {result.attendance_id}"
             + (f" at {result.arrival:%Y-%m-%d %H:%M}" if result.arrival else "")]
    if result.errors:
        lines += [f"  ERROR: {e}" for e in result.errors]
        return "\n".join(lines)
    m = result.match
    if m.person_id:
        lines.append(f"  Register match: {m.person_id} ({m.band}, score {m.score:.3f})")
    elif m.candidates:
        lines.append("  Possible register matches — confirm before relying on them: "
                     + ", ".join(f"{c.person_id} ({c.score:.2f})" for c in m.candidates))
    else:
        lines.append("  Not found on the register" + (f" ({m.method})" if m.method else ""))
    if explain and m.comparisons and (m.person_id or m.candidates):
        lines.append("    why: " + "; ".join(f"{c.field} {c.level} ({c.weight:+.1f})"
                                              for c in m.comparisons))
    if result.flags:
        lines.append("  Flags:")
        for f in result.flags:
            when = f"since {f.start}" if f.status == "active" else f"{f.start} to {f.end}"
            who = ("this child" if f.subject == "self"
                   else f"{f.relationship or f.subject} {f.person_id}")
            status = "ACTIVE" if f.status == "active" else "previous"
            la = f" — {f.local_authority}" if f.local_authority else ""
            contact = f", contact {f.contact}" if f.contact else ""
            lines.append(f"    {status} {_PLAN_NAMES.get(f.code, f.code)} ({f.code}), {who}, "
                         f"{when}{la}{contact}{_unconfirmed(f.confirmed)}")
    else:
        lines.append("  Flags: none on record")
    if result.warnings:
        lines.append("  Prompts:")
        for w in result.warnings:
            lines.append(f"    [{w.level}] {w.code}: {w.message}{_unconfirmed(w.confirmed)}")
            lines += [f"        - {e}" for e in w.evidence]
            lines.append(f"        source: {w.source}")
    else:
        lines.append("  Prompts: none")
    return "\n".join(lines)


def _unconfirmed(confirmed: bool) -> str:
    """The mark of a flag or prompt that rests on a link only the attendances suggest."""
    return "" if confirmed else " [link not confirmed by the register]"
