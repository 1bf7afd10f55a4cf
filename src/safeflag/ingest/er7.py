"""HL7 v2 ER7 (pipe-and-hat) text: message framing, delimiters and escape sequences.

Plain ``str.split`` over segments, fields, repetitions, components and subcomponents — no
grammar, no message structures — so that it is fast and never hangs on odd input. Field
meaning lives in :mod:`safeflag.ingest.hl7v2`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import BinaryIO, Iterable, Iterator

from ..errors import MessageError
from ._common import MAX_MESSAGE_CHARS

__all__ = ["SEGMENT_JUNK", "Delimiters", "iter_hl7_messages", "iter_hl7_stream", "split_segments",
           "decode_message_bytes", "message_ref"]

_ENVELOPE = frozenset({"FHS", "BHS", "BTS", "FTS"})
_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{2}(?:[^A-Za-z0-9\s]|$)")
_BOM = "\ufeff"
_BOM_LATIN1 = "\xef\xbb\xbf"
#: What may stand before a segment's id without being part of it: control characters (a NUL,
#: DOS's end-of-file Ctrl-Z, MLLP bytes), white space and byte-order marks (UTF-8, or read as
#: latin-1), as left between messages by concatenating files saved on other systems.
SEGMENT_JUNK = r"(?:[\x00-\x20\x7f\ufeff]|\xef\xbb\xbf)"
_LEADING_JUNK = re.compile(rf"^{SEGMENT_JUNK}+")


def _segment_text(raw: str) -> str:
    """A line as a segment: trailing white space dropped, and leading junk
    (:data:`SEGMENT_JUNK`) too when it does not start with a letter."""
    seg = raw.rstrip()
    if seg and not ("A" <= seg[0] <= "Z"):
        seg = _LEADING_JUNK.sub("", seg, count=1)
    return seg


def _normalise_breaks(text: str) -> str:
    """Every segment terminator (CR, LF, CRLF) and MLLP frame byte (VT, FS) becomes CR."""
    if "\n" in text:
        text = text.replace("\r\n", "\r").replace("\n", "\r")
    if "\x0b" in text or "\x1c" in text:
        text = text.replace("\x0b", "\r").replace("\x1c", "\r")
    return text


def split_segments(text: str) -> list[str]:
    """The non-blank segments of one message or stream, in order."""
    return [s for s in map(_segment_text, _normalise_breaks(text).split("\r")) if s]


def _group(segments: Iterable[str], limit: int) -> Iterator[tuple[int, str]]:
    """Group segments into messages, each starting at an MSH segment.

    Batch envelopes (FHS/BHS/BTS/FTS) are skipped. Segment-like lines before the first MSH
    (e.g. a stream that starts with PID) are handed on as a message of their own so that the
    reader reports them; other text before the first MSH (comments, blank lines) is ignored,
    unless the stream holds no message at all, when it too is reported.
    """
    position = 0
    current: list[str] | None = None
    size = 0
    orphans: list[str] = []
    stray_text = ""
    for raw in segments:
        seg = _segment_text(raw)
        if not seg:
            continue
        head = seg[:3]
        if head == "MSH":
            if current is not None:
                position += 1
                yield position, "\r".join(current)
            elif orphans:
                position += 1
                yield position, "\r".join(orphans)
                orphans = []
            current, size = [seg[: limit + 1]], len(seg)
            continue
        if head in _ENVELOPE and _SEGMENT_ID.match(seg):
            continue
        if current is None:
            if _SEGMENT_ID.match(seg):
                if sum(map(len, orphans)) <= limit:
                    orphans.append(seg[: limit + 1])
            elif not stray_text:
                stray_text = seg[:200]
            continue
        if size <= limit:
            current.append(seg[: limit + 1])
            size += len(seg) + 1
    if current is not None:
        position += 1
        yield position, "\r".join(current)
    elif orphans:
        yield position + 1, "\r".join(orphans)
    elif stray_text and position == 0:
        yield 1, stray_text


def iter_hl7_messages(text: str) -> Iterator[tuple[int, str]]:
    """Split ER7 text into ``(position, raw message)`` pairs; position counts from 1.

    Accepts CR, LF or CRLF terminators, MLLP framing, FHS/BHS batch envelopes, blank and
    comment lines between messages and a UTF-8 byte order mark. Each raw message comes back
    with its segments joined by CR. A message over the size limit is cut just past the limit
    (so :func:`~safeflag.ingest.hl7v2.parse_hl7` refuses it) rather than held in memory.
    """
    text = text.lstrip(_BOM)
    return _group(_normalise_breaks(text).split("\r"), MAX_MESSAGE_CHARS)


def _stream_segments(fp: BinaryIO, chunk_size: int, limit: int) -> Iterator[str]:
    """Segments of a binary stream, decoded as latin-1 (byte-transparent) chunk by chunk."""
    carry = ""
    first = True
    while True:
        chunk = fp.read(chunk_size)
        if not chunk:
            break
        text = chunk.decode("latin-1")
        if first:
            text = text[3:] if text.startswith(_BOM_LATIN1) else text
            first = False
        parts = _normalise_breaks(carry + text).split("\r")
        carry = parts.pop()
        if len(carry) > limit + 1:
            carry = carry[: limit + 1]
        yield from parts
    if carry:
        yield carry


def iter_hl7_stream(fp: BinaryIO, *, chunk_size: int = 1 << 20,
                    limit: int = MAX_MESSAGE_CHARS) -> Iterator[tuple[int, str]]:
    """Like :func:`iter_hl7_messages` for a binary file, reading it chunk by chunk.

    Yields ``(position, latin-1 text)``; pass the text to :func:`decode_message_bytes` to get
    the message as the sender encoded it.
    """
    return _group(_stream_segments(fp, chunk_size, limit), limit)


def _msh_field(raw: str, n: int) -> str:
    """MSH-n read without delimiter knowledge beyond MSH-1 (used before decoding)."""
    if len(raw) < 4:
        return ""
    fields = raw.split("\r", 1)[0].split(raw[3])
    return fields[n - 1] if 1 < n <= len(fields) else ""


def message_ref(raw: str, position: int) -> str:
    """How errors name a message: its control id (MSH-10) and position, or ``#position``."""
    control = _msh_field(raw, 10).strip() if raw.startswith("MSH") else ""
    control = "".join(ch for ch in control[:64] if ch.isprintable())
    return f"{control} (#{position})" if control else f"#{position}"


def decode_message_bytes(latin1_text: str, position: int, source: str) -> str:
    """Re-decode a message read byte-transparently: UTF-8, or ISO 8859-1 when MSH-18 says so."""
    if latin1_text.isascii():
        return latin1_text
    data = latin1_text.encode("latin-1")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        charset = _msh_field(latin1_text, 18).upper().replace(" ", "")
        if "8859" in charset or "LATIN" in charset:
            return latin1_text
        raise MessageError(
            f"bytes at offset {exc.start} are not UTF-8 and MSH-18 does not declare "
            "ISO 8859/1; send UTF-8 or set MSH-18 to the character set used",
            message=message_ref(latin1_text, position), location="MSH-18",
            source=source) from exc


# --- delimiters and escapes ----------------------------------------------------------------
@dataclass(frozen=True)
class Delimiters:
    """The encoding characters of one message (MSH-1 and MSH-2)."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"
    escapes: dict[str, str] = dc_field(default_factory=dict, compare=False)

    @classmethod
    def from_msh(cls, msh: str) -> "Delimiters":
        """Read MSH-1/MSH-2; ``ValueError`` (with the field name first) when unusable."""
        if len(msh) < 4:
            raise ValueError("MSH-1|MSH has no field separator")
        fs = msh[3]
        if fs.isalnum() or fs.isspace():
            raise ValueError("MSH-1|the field separator must be a punctuation character")
        enc = msh[4:].split(fs, 1)[0]
        if len(enc) == 5 and enc[2] == enc[3]:
            enc = enc[:3] + enc[4]  # "^~\\&": a doubled escape character from source quoting
        enc = enc[:4]
        if not enc:
            raise ValueError("MSH-2|the encoding characters are missing")
        chars = list(enc)
        if any(ch.isspace() or ch == fs for ch in chars) or len(set(chars)) != len(chars):
            raise ValueError("MSH-2|the encoding characters must be distinct characters other "
                             "than the field separator (e.g. ^~\\&)")
        comp, rep, esc, sub = (chars + ["", "", "", ""])[:4]
        return cls.build(fs, comp, rep, esc, sub)

    @classmethod
    def build(cls, fs: str = "|", comp: str = "^", rep: str = "~", esc: str = "\\",
              sub: str = "&") -> "Delimiters":
        """Delimiters with their escape table (the defaults are ``|^~\\&``)."""
        escapes = {"F": fs, "S": comp, "R": rep, "E": esc, "T": sub, ".br": "\n",
                   "H": "", "N": ""}
        return cls(fs, comp, rep, esc, sub, escapes)

    def unescape(self, value: str) -> str:
        """Decode ``\\F\\ \\S\\ \\T\\ \\R\\ \\E\\ \\Xhh..\\ \\.br\\``; drop formatting escapes."""
        esc = self.escape
        if not esc or esc not in value:
            return value
        out: list[str] = []
        i = 0
        while True:
            j = value.find(esc, i)
            k = value.find(esc, j + 1) if j >= 0 else -1
            if j < 0 or k < 0:
                out.append(value[i:])
                return "".join(out)
            out.append(value[i:j])
            out.append(self._sequence(value[j + 1:k]))
            i = k + 1

    def _sequence(self, seq: str) -> str:
        known = self.escapes.get(seq)
        if known is not None:
            return known
        if seq[:1] == "X" and len(seq) % 2 == 1:
            try:
                data = bytes.fromhex(seq[1:])
            except ValueError:
                return self.escape + seq + self.escape
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                return data.decode("latin-1")
        if seq[:1] in ("C", "M", "Z") or seq.startswith((".sp", ".in", ".ti", ".sk", ".fi",
                                                         ".nf", ".ce")):
            return "\n" if seq.startswith(".sp") else ""
        return self.escape + seq + self.escape

