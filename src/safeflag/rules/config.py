"""Rule thresholds from the documented defaults file, overlaid by a site's own settings.

``rules/defaults.toml`` ships with the package and states every threshold with the rule it
belongs to; its values are the interface contract's defaults and equal
:class:`~safeflag.settings.RuleSettings`'s (a test keeps the two in step). A site file needs
only the keys it changes::

    [rules]
    sibling_injury_days = 120
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ConfigError
from ..settings import RuleSettings

__all__ = ["DEFAULTS_FILE", "default_rule_values", "load_rule_settings"]

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


def load_rule_settings(path: str | Path | None = None) -> RuleSettings:
    """Rule settings from the defaults file, with the [rules] table of ``path`` over them."""
    values = default_rule_values()
    where = DEFAULTS_FILE
    if path is not None:
        where = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read settings: {exc}. "
                              "Check the file exists.") from exc
        values = {**values, **_read(text, where)}
    try:
        return RuleSettings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(f"{where}: invalid rule settings: {exc}") from exc
