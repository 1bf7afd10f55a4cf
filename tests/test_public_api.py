"""The public API is exactly what ``safeflag.__all__`` lists; changing it is a deliberate act."""

import safeflag


def test_all_is_pinned():
    assert sorted(safeflag.__all__) == sorted([
        "Attendance", "CheckResult", "ConfigError", "Flag", "InputError", "MatchResult",
        "MatchSettings", "MessageError", "NotAnArrival", "Person", "Plan", "Register",
        "RegisterError", "Relationship", "RuleSettings", "Safeflag", "SafeflagError", "Settings",
        "StoreError", "Warning", "__version__", "load_register_csv", "read_attendances",
        "read_text", "to_dict", "to_fhir_bundle", "to_json_line", "to_text",
    ])


def test_every_exported_name_exists():
    for name in safeflag.__all__:
        assert getattr(safeflag, name) is not None


def test_one_error_root():
    for name in ("ConfigError", "InputError", "MessageError", "NotAnArrival", "RegisterError",
                 "StoreError"):
        assert issubclass(getattr(safeflag, name), safeflag.SafeflagError)
