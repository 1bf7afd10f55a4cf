"""The CLI runs in the test process (typer's CliRunner): `safeflag batch` would lower the
test run's own CPU priority, so ``os.nice`` is recorded instead of applied."""

from __future__ import annotations

import pytest

import safeflag.cli


@pytest.fixture(autouse=True)
def nice_calls(monkeypatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(safeflag.cli.os, "nice", calls.append, raising=False)
    return calls
