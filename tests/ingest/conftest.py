"""Shared paths for the ingest tests."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
