"""Ingest throughput: safeflag's readers against the reference libraries, in one process.

    python bench/bench_ingest.py [--n 20000] [--ref-n 500]

Generates N synthetic ADT^A04 messages (and N FHIR bundles as NDJSON, and N CSV rows) in a
temporary folder, reads them with safeflag's streaming readers, reads a subset of ``--ref-n``
with hl7apy (``parse_message``) / fhir.resources (``Bundle.model_validate``) and prints
messages per second for each and the ratio (reference rates are extrapolated from the subset).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
from pathlib import Path

from safeflag.ingest import read_attendances
from safeflag.models import Attendance

_FAMILY = ["Smith", "Jones", "O\\T\\Brien", "Khan", "Taylor", "Brown", "Wilson", "Ali"]
_GIVEN = ["Lily", "Tom", "Ava", "Noah", "Isla", "Leo", "Amelia", "Oscar"]


def _nhs(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(0, 9) for _ in range(9)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1))) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def hl7_message(i: int, rng: random.Random) -> str:
    """One ADT^A04 v2.4 in the shape of an NHS ED feed."""
    arrival = f"2014{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 23):02d}15"
    pv1 = ["PV1", "1", "E", "ED^^^RXX01"] + [""] * 15 + [f"V{i:07d}"] + [""] * 24 + [arrival]
    return "\r".join([
        f"MSH|^~\\&|SYMPHONY|RXX01|SAFEFLAG|RXX01|{arrival}00||ADT^A04^ADT_A01|M{i}|P|2.4",
        f"EVN|A04|{arrival}00",
        f"PID|1||R{i}^^^RXX01^MR~{_nhs(rng)}^^^NHS^NH||{rng.choice(_FAMILY)}^"
        f"{rng.choice(_GIVEN)}^Mae||20{rng.randint(10, 13)}0{rng.randint(1, 9)}1"
        f"{rng.randint(0, 9)}|F|||12 Acacia Avenue^^Leeds^^LS6 2AB^GBR^H",
        f"NK1|1|{rng.choice(_FAMILY)}^Sarah|MTH^Mother^HL70063|12 Acacia Avenue^^Leeds^^LS6 2AB",
        "|".join(pv1),
        "PV2|||T001^Fall^L",
        "DG1|1||S06.0^Concussion^I10||20140103|W",
    ]) + "\r"


def fhir_bundle(i: int, rng: random.Random) -> dict:
    """One collection Bundle: Patient, Encounter (EMER), RelatedPerson, Condition."""
    pat_url, enc_url = f"urn:uuid:p-{i}", f"urn:uuid:e-{i}"
    return {"resourceType": "Bundle", "id": f"b{i}", "type": "collection", "entry": [
        {"fullUrl": pat_url, "resource": {
            "resourceType": "Patient", "id": f"p{i}",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": _nhs(rng)}],
            "name": [{"family": rng.choice(_FAMILY), "given": [rng.choice(_GIVEN)]}],
            "gender": "female", "birthDate": "2013-03-01",
            "address": [{"line": ["12 Acacia Avenue"], "city": "Leeds", "postalCode": "LS6 2AB"}]}},
        {"fullUrl": enc_url, "resource": {
            "resourceType": "Encounter", "id": f"e{i}", "status": "arrived",
            "identifier": [{"value": f"V{i:07d}"}],
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                      "code": "EMER"},
            "subject": {"reference": pat_url}, "period": {"start": "2014-01-03T10:15:00Z"}}},
        {"fullUrl": f"urn:uuid:r-{i}", "resource": {
            "resourceType": "RelatedPerson", "id": f"r{i}", "patient": {"reference": pat_url},
            "relationship": [{"coding": [{"code": "MTH"}]}],
            "name": [{"family": "Smith", "given": ["Sarah"]}]}},
        {"fullUrl": f"urn:uuid:c-{i}", "resource": {
            "resourceType": "Condition", "id": f"c{i}", "subject": {"reference": pat_url},
            "encounter": {"reference": enc_url},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "S06.0"}]}}},
    ]}


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def _time_ours(path: Path, fmt: str) -> tuple[int, float]:
    start = time.perf_counter()
    ok = sum(1 for item in read_attendances(path, fmt=fmt) if isinstance(item, Attendance))
    return ok, time.perf_counter() - start


def bench_hl7(folder: Path, n: int, ref_n: int, rng: random.Random) -> None:
    from hl7apy.parser import parse_message

    messages = [hl7_message(i, rng) for i in range(n)]
    path = folder / "adt.hl7"
    path.write_text("".join(messages), encoding="utf-8")
    ok, ours = _time_ours(path, "hl7")
    subset = messages[:ref_n]
    start = time.perf_counter()
    for raw in subset:
        parse_message(raw, find_groups=False)
    ref = time.perf_counter() - start
    _report("HL7 v2 ADT^A04", n, ok, ours, "hl7apy.parser.parse_message", len(subset), ref)


def bench_fhir(folder: Path, n: int, ref_n: int, rng: random.Random) -> None:
    from fhir.resources.R4B.bundle import Bundle

    bundles = [fhir_bundle(i, rng) for i in range(n)]
    path = folder / "bundles.ndjson"
    path.write_text("".join(json.dumps(b) + "\n" for b in bundles), encoding="utf-8")
    ok, ours = _time_ours(path, "ndjson")
    lines = path.read_text(encoding="utf-8").splitlines()[:ref_n]
    start = time.perf_counter()
    for line in lines:
        Bundle.model_validate(json.loads(line))
    ref = time.perf_counter() - start
    _report("FHIR R4 Bundle (NDJSON)", n, ok, ours, "fhir.resources Bundle.model_validate",
            len(lines), ref)


def bench_csv(folder: Path, n: int, rng: random.Random) -> None:
    path = folder / "extract.csv"
    with open(path, "w", encoding="utf-8", newline="") as fp:
        out = csv.writer(fp)
        out.writerow(["attendance_id", "arrival", "nhs_number", "given_name", "family_name",
                      "birth_date", "sex", "postcode", "diagnosis_codes", "mother_given_name"])
        for i in range(n):
            out.writerow([f"V{i:07d}", "2014-01-03T10:15:00", _nhs(rng), rng.choice(_GIVEN),
                          "Smith", "2013-03-01", "F", "LS6 2AB", "ICD10:S06.0;SNOMED:91302008",
                          "Sarah"])
    ok, ours = _time_ours(path, "csv")
    start = time.perf_counter()
    with open(path, encoding="utf-8", newline="") as fp:
        rows = sum(1 for _ in csv.DictReader(fp))
    base = time.perf_counter() - start
    print(f"CSV extract: safeflag {_rate(ok, ours):,.0f} rows/s ({ok}/{n} read); "
          f"csv.DictReader alone {_rate(rows, base):,.0f} rows/s")


def _report(label: str, n: int, ok: int, ours: float, ref_name: str, ref_n: int,
            ref: float) -> None:
    mine, theirs = _rate(ok, ours), _rate(ref_n, ref)
    print(f"{label}: safeflag {mine:,.0f} msgs/s ({ok}/{n} read in {ours:.2f}s); "
          f"{ref_name} {theirs:,.0f} msgs/s (on {ref_n}, extrapolated); "
          f"ratio {mine / theirs:,.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="records per format")
    parser.add_argument("--ref-n", type=int, default=500, help="records for reference libraries")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_hl7(folder, args.n, args.ref_n, rng)
        bench_fhir(folder, args.n, args.ref_n, rng)
        bench_csv(folder, args.n, rng)


if __name__ == "__main__":
    main()
