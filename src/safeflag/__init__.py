"""safeflag: safeguarding flags and injury-pattern prompts for children attending an ED.

The public API is what this module exports; everything else is private and may change::

    from safeflag import Safeflag
    with Safeflag.open("safeflag.db") as sf:
        sf.load_register("register/")
        for result in sf.check_path("arrivals.hl7"):
            print(result.match.band, [f.code for f in result.flags])
"""

from __future__ import annotations

from .errors import (ConfigError, InputError, MessageError, NotAnArrival, RegisterError,
                     SafeflagError, StoreError)
from .ingest import read_attendances, read_text
from .ingest.register import load_register_csv
from .models import (Attendance, CheckResult, Flag, MatchResult, Person, Plan, Register,
                     Relationship, Warning)
from .output import to_dict, to_fhir_bundle, to_json_line, to_text
from .pipeline import Safeflag
from .settings import MatchSettings, RuleSettings, Settings

__version__ = "0.1.0"

__all__ = [
    "Attendance",
    "CheckResult",
    "ConfigError",
    "Flag",
    "InputError",
    "MatchResult",
    "MatchSettings",
    "MessageError",
    "NotAnArrival",
    "Person",
    "Plan",
    "Register",
    "RegisterError",
    "Relationship",
    "RuleSettings",
    "Safeflag",
    "SafeflagError",
    "Settings",
    "StoreError",
    "Warning",
    "__version__",
    "load_register_csv",
    "read_attendances",
    "read_text",
    "to_dict",
    "to_fhir_bundle",
    "to_json_line",
    "to_text",
]
