"""House style the linters would otherwise check: package source lines fit in 100 characters
(the width the docs and reviews are read at)."""

from __future__ import annotations

from pathlib import Path

import safeflag

LIMIT = 100


def test_package_lines_fit_in_100_characters():
    root = Path(safeflag.__file__).parent
    long = [f"{path.relative_to(root)}:{number}"
            for path in sorted(root.rglob("*.py"))
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if len(line) > LIMIT]
    assert not long, f"lines over {LIMIT} characters: {', '.join(long)}"
