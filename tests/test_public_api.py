"""The public API is exactly what ``safeflag.__all__`` lists; changing it is a deliberate act."""

import pytest

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


# --- the library used the wrong way: a clear error, not an AttributeError deep inside ---------
def test_check_refuses_what_is_not_an_attendance_and_check_item_takes_reader_items():
    from safeflag.store.sqlite import SqliteStore

    sf = safeflag.Safeflag(SqliteStore(":memory:"))
    [bad] = safeflag.read_text("MSH|^~\\&|A|B|C|D|20140103||ADT^A04|X1|P|2.4\r"
                               "PID|1||X||P^L||20121399|F\r")
    assert isinstance(bad, safeflag.MessageError)
    for wrong in (bad, "MSH|...", None, {}):
        with pytest.raises(TypeError, match="check_item"):
            sf.check(wrong)
    assert sf.check_item(bad).errors
    sf.close()


def test_open_refuses_settings_that_are_not_settings_before_making_a_database(tmp_path):
    path = tmp_path / "sf.db"
    with pytest.raises(TypeError, match="Settings"):
        safeflag.Safeflag.open(path, {"rules": {}})
    assert not path.exists()


@pytest.mark.parametrize("build", [
    lambda: safeflag.RuleSettings(sibling_injury_days=0),
    lambda: safeflag.RuleSettings(no_such_key=1),
    lambda: safeflag.RuleSettings(repeat_short_days=400, repeat_long_days=365),
    lambda: safeflag.Settings(rules={"infant_months": "twelve"}),
    lambda: safeflag.MatchSettings(certain=2.0),
])
def test_settings_built_in_code_are_config_errors(build):
    with pytest.raises(safeflag.ConfigError, match="docs/configuration.md"):
        build()


def test_settings_within_range_are_built():
    assert safeflag.RuleSettings(sibling_injury_days=1).sibling_injury_days == 1


def test_an_attendance_built_with_an_offset_is_held_in_uk_wall_time():
    from datetime import datetime, timedelta, timezone

    from safeflag.models import Demographics

    utc = timezone.utc
    summer = safeflag.Attendance(attendance_id="V1", patient=Demographics(),
                                 arrival=datetime(2014, 7, 3, 10, 15, tzinfo=utc),
                                 injury_time=datetime(2014, 7, 2, 22, 0, tzinfo=utc))
    assert summer.arrival == datetime(2014, 7, 3, 11, 15) and summer.arrival.tzinfo is None
    assert summer.injury_time == datetime(2014, 7, 2, 23, 0)
    winter = safeflag.Attendance(attendance_id="V2", patient=Demographics(),
                                 arrival=datetime(2014, 1, 3, 10, 15,
                                                  tzinfo=timezone(timedelta(hours=-5))))
    assert winter.arrival == datetime(2014, 1, 3, 15, 15)
