"""Fixtures shared by the store tests."""

from __future__ import annotations

import pytest

from safeflag.store.sqlite import SqliteStore


@pytest.fixture
def two_connections(tmp_path):
    """Two connections to one database file, as two processes would have."""
    first, second = SqliteStore(tmp_path / "s.db"), SqliteStore(tmp_path / "s.db")
    yield first, second
    first.close()
    second.close()
