"""Every message in every shared-corpus file yields an Attendance or a named MessageError."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from safeflag.errors import MessageError
from safeflag.ingest import read_attendances
from safeflag.models import Attendance

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


def _files() -> list[str]:
    index = CORPUS / "INDEX.tsv"
    if not index.exists():
        return []
    with open(index, encoding="utf-8", newline="") as fp:
        rows = list(csv.reader(fp, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [r[0] for r in rows[1:] if r and (CORPUS / r[0]).is_file()]


FILES = _files()


def _msh_count(data: bytes) -> int:
    return len(re.findall(rb"(?:^|[\r\n\x0b])[ \t]*MSH", data))


@pytest.mark.skipif(not FILES, reason="shared corpus not present")
@pytest.mark.parametrize("rel", FILES)
def test_corpus_file(rel):
    path = CORPUS / rel
    items = list(read_attendances(path))
    data = path.read_bytes()
    if rel.startswith("hl7/") and b"MSH" in data:
        assert items, "a file holding an MSH gave nothing"
        assert len(items) >= _msh_count(data)
    if rel.startswith("fhir/"):
        assert items
    for item in items:
        assert isinstance(item, (Attendance, MessageError)), type(item)
        if isinstance(item, MessageError):
            assert item.message_ref and item.message_ref in str(item)
            assert str(path) in str(item)


def test_corpus_present_or_skipped():
    if not CORPUS.exists():
        pytest.skip("shared corpus not present")
    assert FILES
