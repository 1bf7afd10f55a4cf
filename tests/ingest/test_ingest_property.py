"""Property tests: the fast ER7 reader agrees with hl7apy; fuzzed input never escapes."""

from __future__ import annotations

import re
import time
from datetime import date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeflag.algo.nhs import is_valid_nhs_number
from safeflag.errors import MessageError
from safeflag.ingest import read_text
from safeflag.ingest.hl7v2 import parse_hl7
from safeflag.models import Attendance

_ESC = {"\\": "\\E\\", "|": "\\F\\", "^": "\\S\\", "&": "\\T\\", "~": "\\R\\"}
_REF = {"E": "\\", "F": "|", "S": "^", "T": "&", "R": "~"}


def escape(text: str) -> str:
    return "".join(_ESC.get(ch, ch) for ch in text)


def ref_unescape(text: str) -> str:
    """An independent oracle for the five delimiter escapes."""
    return re.sub(r"\\([EFSTR])\\", lambda m: _REF[m.group(1)], text)


names = st.text(alphabet="abcXYZ '-|^~\\&éß", min_size=1, max_size=12).map(str.strip).filter(
    lambda s: s and s != '""')
dates = st.dates(date(1900, 1, 1), date(2099, 12, 31)).map(lambda d: d.strftime("%Y%m%d"))
nhs = st.integers(100_000_000, 999_999_999).map(
    lambda n: next((f"{n}{c}" for c in "0123456789" if is_valid_nhs_number(f"{n}{c}")), None)
).filter(bool)
icd = st.from_regex(r"\A[S-T][0-9]{2}\.[0-9]\Z")
sexes = st.sampled_from("FMUOAN")
times = st.datetimes(datetime(1990, 1, 1), datetime(2099, 12, 31)).map(
    lambda d: d.strftime("%Y%m%d%H%M%S"))


def build(control, family, given_, dob, sex, number, codes, kin, arrival, visit, injured=None):
    pv1 = ["PV1", "1", "E"] + [""] * 16 + [visit] + [""] * 24 + [arrival]
    segs = [
        f"MSH|^~\\&|ED|RXX|SF|RXX|{arrival}||ADT^A04^ADT_A01|{control}|P|2.5",
        "EVN|A04|" + arrival,
        f"PID|1||R1^^^RXX^MR~{number}^^^NHS^NH||{escape(family)}^{escape(given_)}||{dob}|{sex}",
        f"NK1|1|{escape(kin)}^Mum|MTH^Mother^HL70063",
        "|".join(pv1),
    ] + [f"DG1|{i + 1}||{code}^{escape(family)}^I10" for i, code in enumerate(codes)]
    if injured is not None:
        segs.append(f"ACC|{injured}|07^Fall^HL70050")
    return "\r".join(segs) + "\r"


def comp(field, i: int) -> str:
    for child in field.children:
        if child.name.endswith(f"_{i}"):
            return ref_unescape(child.value.strip())
    return ""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.from_regex(r"\A[A-Z0-9]{1,12}\Z"), names, names, dates, sexes, nhs,
       st.lists(icd, max_size=3), names, times, st.from_regex(r"\AV[0-9]{1,8}\Z"),
       st.none() | times)
def test_fast_reader_matches_hl7apy(control, family, given_, dob, sex, number, codes, kin,
                                    arrival, visit, injured):
    from hl7apy.parser import parse_message

    raw = build(control, family, given_, dob, sex, number, codes, kin, arrival, visit, injured)
    att = parse_hl7(raw, 1, "prop")
    ref = parse_message(raw, find_groups=False)
    pid = ref.pid
    assert att.message_id == ref.msh.msh_10.value
    assert att.patient.names[0].family == comp(pid.pid_5[0], 1) == family
    assert att.patient.names[0].given == comp(pid.pid_5[0], 2) == given_
    assert str(att.patient.birth_date).replace("-", "") == pid.pid_7.value
    assert att.patient.sex.value[0].upper() == sex if sex in "FM" else True
    nhs_rep = next(r for r in pid.pid_3 if comp(r, 5) == "NH")
    assert att.patient.nhs_number == comp(nhs_rep, 1) == number
    assert att.attendance_id == ref.pv1.pv1_19.value == visit
    assert att.arrival.strftime("%Y%m%d%H%M%S") == ref.pv1.pv1_44.value
    accs = [s for s in ref.children if s.name == "ACC"]
    if injured is None:
        assert att.injury_time is None and not accs
    else:
        assert att.injury_time.strftime("%Y%m%d%H%M%S") == accs[0].acc_1.value == injured
    dg1s = [s for s in ref.children if s.name == "DG1"]
    assert [d.code for d in att.diagnoses] == [comp(s.dg1_3, 1) for s in dg1s] == codes
    assert all(d.system == "ICD10" for d in att.diagnoses)
    [mother] = att.next_of_kin
    assert mother.demographics.names[0].family == comp(ref.nk1.nk1_2[0], 1) == kin
    assert mother.code == comp(ref.nk1.nk1_3, 1) == "MTH"


GOOD = build("C1", "Doe", "Jane", "20130301", "F", "9434765919", ["S06.0"], "Doe",
             "20140103101500", "V1", "20140103091500")


def _check(text: str) -> None:
    start = time.perf_counter()
    items = list(read_text(text, source="fuzz", fmt="hl7"))
    assert time.perf_counter() - start < 5
    assert all(isinstance(i, (Attendance, MessageError)) for i in items)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(GOOD)))
def test_fuzz_truncated(cut):
    _check(GOOD[:cut])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_binary(data):
    _check(data.decode("latin-1"))
    _check("MSH" + data.decode("latin-1"))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1),
                          st.sampled_from(list("|^~\\&\r\n\x0b\x1cMSH0 ") + ["\\X", "\\F"])),
                max_size=8))
def test_fuzz_mutated(edits):
    text = GOOD
    for pos, piece in edits:
        text = text[:pos] + piece + text[pos + 1:]
    _check(text)


@settings(max_examples=5, deadline=None)
@given(st.sampled_from(["x", "|", "^", "\\", "MSH|"]), st.integers(1_000_001, 1_300_000))
def test_fuzz_huge(piece, size):
    _check(GOOD + (piece * size)[:size])
    _check(GOOD.replace("Doe^Jane", "D" * size + "^Jane"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_every_format(text):
    for fmt in (None, "hl7", "fhir", "ndjson", "csv"):
        items = list(read_text(text, source="fuzz", fmt=fmt))
        assert all(isinstance(i, (Attendance, MessageError)) for i in items)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
        st.sampled_from(["resourceType", "entry", "resource", "subject", "reference", "period",
                         "start", "identifier", "value", "name", "birthDate", "class", "code",
                         "coding", "system", "id", "fullUrl", "patient", "relationship"]),
        kids, max_size=4),
    max_leaves=20)
resources = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Encounter", "Patient", "RelatedPerson", "Condition"])},
    optional={"id": st.text(max_size=3), "subject": json_values, "period": json_values,
              "identifier": json_values, "name": json_values, "birthDate": json_values,
              "class": json_values, "patient": json_values, "relationship": json_values,
              "code": json_values, "encounter": json_values, "reasonCode": json_values})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({"resource": resources},
                                      optional={"fullUrl": st.text(max_size=4)}), max_size=5))
def test_fuzz_fhir_bundles(entries):
    import json

    text = json.dumps({"resourceType": "Bundle", "id": "b", "entry": entries})
    items = list(read_text(text, source="fuzz", fmt="fhir"))
    assert items and all(isinstance(i, (Attendance, MessageError)) for i in items)
