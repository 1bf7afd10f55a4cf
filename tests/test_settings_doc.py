"""docs/configuration.md shows every setting with its default: the example file there is a
valid settings file, and it names each key of :class:`safeflag.Settings` with its value."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from safeflag import Settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_the_documented_example_is_every_setting_at_its_default():
    block = re.search(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert block, "docs/configuration.md has no ```toml example"
    documented = tomllib.loads(block.group(1))
    defaults = Settings().model_dump()
    assert documented == {section: defaults[section] for section in documented}
    assert set(documented) == set(defaults)
