"""The documented defaults file of the rule thresholds.

``rules/defaults.toml`` ships with the package and states every threshold with the rule it
belongs to; its values are the interface contract's defaults and equal
:class:`~safeflag.settings.RuleSettings`'s (a test keeps the two in step). A site's own
settings file (``--config``, :meth:`safeflag.Settings.from_toml`) needs only the keys it
changes::

    [rules]
    sibling_injury_days = 120
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

from ..errors import ConfigError

__all__ = ["DEFAULTS_FILE", "default_rule_values"]

DEFAULTS_FILE = "defaults.toml"


def _read(text: str, where: str) -> dict[str, Any]:
    try:
        table = tomllib.loads(text).get("rules", {})
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from exc
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [rules] must be a table of threshold = value")
    return table


def default_rule_values() -> dict[str, Any]:
    """The [rules] table of the packaged defaults file."""
    text = resources.files("safeflag.rules").joinpath(DEFAULTS_FILE).read_text(encoding="utf-8")
    return _read(text, DEFAULTS_FILE)
