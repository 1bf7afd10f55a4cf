"""Injury classification of diagnoses and presenting complaints.

ICD-10 codes are read by the structure of chapter XIX: for S00–S99 the second digit is the body
region (0 head, 1 neck, 2 thorax, 3 abdomen/lower back/pelvis, 4 shoulder/upper arm, 5 elbow/
forearm, 6 wrist/hand, 7 hip/thigh, 8 knee/lower leg, 9 ankle/foot) and the third the type
(0 superficial, 1 open wound, 2 fracture, 3 dislocation …; in the head block S06 is intracranial).
T00–T14 are injuries of multiple or unspecified regions and T20–T32 burns.

SNOMED CT codes are classified from a small curated table (``SNOMED_INJURIES``) of common ED
injury findings; free text is classified by keyword and marked ``confidence="free-text"``, a
weaker signal that the rules and output say out loud.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["InjuryFinding", "classify", "normalise_icd10", "SNOMED_INJURIES"]

REGIONS = {"0": "head", "1": "neck", "2": "thorax", "3": "abdomen-pelvis",
           "4": "shoulder-upper-arm",
           "5": "forearm", "6": "wrist-hand", "7": "hip-thigh", "8": "lower-leg", "9": "ankle-foot"}
_TYPES = {"0": "superficial", "1": "open-wound", "2": "fracture", "3": "dislocation",
          "4": "nerve", "5": "vessel", "6": "muscle-tendon", "7": "crush", "8": "amputation",
          "9": "other"}
_HEAD_TYPES = {"S00": "superficial", "S01": "open-wound", "S02": "fracture", "S03": "dislocation",
               "S04": "nerve", "S05": "eye", "S06": "intracranial", "S07": "crush",
               "S08": "amputation", "S09": "other"}
# Fractures of multiple / unspecified regions named by the contract.
_T_FRACTURES = {"T02", "T08", "T10", "T12"}
# TEN-4-FACESp sites within S00 (4th character): 1/2 eyelid and periocular, 4 ear,
# 5 lip and oral cavity (frenulum), 8 other parts of head (cheek).
_S00_SITES = {"1": "eyelid", "2": "eyelid", "4": "ear", "5": "mouth-frenulum", "8": "cheek"}


@dataclass(frozen=True)
class InjuryFinding:
    """One injury read from a diagnosis or complaint."""

    code: str                 # as normalised ("S06.5", SNOMED id, or "" for free text)
    system: str               # "ICD10", "SNOMED" or "text"
    kind: str                 # superficial, open-wound, fracture, intracranial, burn, other, ...
    region: str               # head, neck, thorax, ... or "unspecified"
    ten4_site: str = ""       # TEN-4-FACESp site name when the finding is at one
    confidence: str = "coded"  # "coded" or "free-text"
    delayed: bool = False     # the term says the injury is old/healing

    @property
    def superficial(self) -> bool:
        return self.kind == "superficial"

    @property
    def fracture(self) -> bool:
        return self.kind == "fracture"

    @property
    def intracranial(self) -> bool:
        return self.kind == "intracranial"

    def describe(self) -> str:
        where = f" of {self.ten4_site or self.region}" if self.region != "unspecified" else ""
        label = f"{self.system} {self.code}" if self.code else "free text"
        return f"{self.kind}{where} ({label})"


def normalise_icd10(code: str) -> str:
    """``"s065"``, ``"S06.5"``, ``"S06.50"`` → ``"S06.5"`` (category, dot, first sub-digit)."""
    c = re.sub(r"[^A-Z0-9]", "", code.upper())
    if len(c) < 3:
        return c
    return c[:3] + ("." + c[3] if len(c) > 3 else "")


def _classify_icd10(code: str, delayed: bool) -> InjuryFinding | None:
    norm = normalise_icd10(code)
    if len(norm) < 3 or not norm[1:3].isdigit():
        return None
    letter, num = norm[0], int(norm[1:3])
    sub = norm[4] if len(norm) > 4 else ""
    cat = norm[:3]
    if letter == "S":
        region = REGIONS[norm[1]]
        kind = _HEAD_TYPES[cat] if norm[1] == "0" else _TYPES[norm[2]]
        site = ""
        if kind == "superficial":
            if cat == "S00":
                site = _S00_SITES.get(sub, "")
            elif cat == "S10":
                site = "neck"
            elif cat in ("S20", "S30"):
                site = "torso"
        return InjuryFinding(norm, "ICD10", kind, region, site, delayed=delayed)
    if letter == "T" and 0 <= num <= 14:
        if cat in _T_FRACTURES or (cat == "T14" and sub == "2"):
            kind = "fracture"
        elif cat == "T00" or (cat in ("T09", "T11", "T13", "T14") and sub == "0"):
            kind = "superficial-multiple"
        else:
            kind = "other"
        return InjuryFinding(norm, "ICD10", kind, "unspecified", delayed=delayed)
    if letter == "T" and 20 <= num <= 32:
        return InjuryFinding(norm, "ICD10", "burn", "unspecified", delayed=delayed)
    return None


# Curated SNOMED CT findings common in ED injury coding: id → (kind, region, TEN-4 site).
SNOMED_INJURIES: dict[str, tuple[str, str, str]] = {
    "125667009": ("superficial", "unspecified", ""),     # Contusion
    "399963005": ("superficial", "unspecified", ""),     # Abrasion
    "312608009": ("open-wound", "unspecified", ""),      # Laceration - injury
    "125605004": ("fracture", "unspecified", ""),        # Fracture of bone
    "71620000": ("fracture", "hip-thigh", ""),           # Fracture of femur
    "82271004": ("other", "head", ""),                   # Injury of head
    "127295002": ("intracranial", "head", ""),           # Traumatic brain injury
    "110030002": ("intracranial", "head", ""),           # Concussion injury of brain
    "48333001": ("burn", "unspecified", ""),             # Burn injury
}

_DELAYED = re.compile(r"\b(old|healing|healed|callus|late presentation|delayed presentation|"
                      r"\d+\s*(?:-|to)\s*\d+\s*weeks?|weeks? old|days? old)\b", re.I)
_TEXT_KINDS = [
    ("intracranial", re.compile(r"\b(subdural|extradural|intracranial|brain injury|"
                                r"intracerebral|concussion)\b", re.I)),
    ("fracture", re.compile(r"\b(fracture[ds]?|broken|#)\b", re.I)),
    ("burn", re.compile(r"\b(burns?|scald(?:ed|s)?)\b", re.I)),
    ("superficial", re.compile(r"\b(bruis(?:e|es|ed|ing)|contusion|abrasion|graze|swelling|"
                               r"swollen|black eye|petechia\w*)\b", re.I)),
    ("open-wound", re.compile(r"\b(cut|laceration|wound|bite)\b", re.I)),
    ("other", re.compile(r"\b(injury|injured|trauma|fell|fall|head injury)\b", re.I)),
]
_TEXT_SITES = [
    ("ear", re.compile(r"\bears?\b", re.I)),
    ("neck", re.compile(r"\bneck\b", re.I)),
    ("mouth-frenulum", re.compile(r"\b(frenulum|frenum|inside (?:the )?mouth)\b", re.I)),
    ("cheek", re.compile(r"\b(cheeks?|jaw)\b", re.I)),
    ("eyelid", re.compile(r"\b(eyelids?|black eye|periorbital|subconjunctival)\b", re.I)),
    ("torso", re.compile(r"\b(torso|chest|back|abdomen|tummy|stomach|buttocks?|genital\w*|"
                         r"trunk)\b", re.I)),
]
_TEXT_REGIONS = [
    ("head", re.compile(r"\b(head|skull|face|facial|forehead|scalp|chin)\b", re.I)),
    ("forearm", re.compile(r"\b(arm|forearm|elbow|wrist|radius|ulna|humerus)\b", re.I)),
    ("lower-leg", re.compile(r"\b(leg|knee|tibia|fibula|shin|ankle)\b", re.I)),
    ("hip-thigh", re.compile(r"\b(femur|thigh|hip)\b", re.I)),
]


def _classify_text(text: str) -> InjuryFinding | None:
    for kind, pattern in _TEXT_KINDS:
        if pattern.search(text):
            site = next((name for name, p in _TEXT_SITES if p.search(text)), "")
            region = "head" if site in ("ear", "cheek", "eyelid", "mouth-frenulum") else \
                "neck" if site == "neck" else "thorax" if site == "torso" else \
                next((name for name, p in _TEXT_REGIONS if p.search(text)), "unspecified")
            if kind != "superficial":
                site = ""
            return InjuryFinding("", "text", kind, region, site, confidence="free-text",
                                 delayed=bool(_DELAYED.search(text)))
    return None


def classify(code: str, system: str, text: str = "") -> InjuryFinding | None:
    """Classify one coded or free-text term; ``None`` when it is not an injury."""
    delayed = bool(text and _DELAYED.search(text))
    sysu = system.upper().replace("-", "").replace(" ", "")
    if code and sysu in ("ICD10", "I10", "ICD10CM", "ICD10UK"):
        return _classify_icd10(code, delayed)
    if code and sysu in ("SNOMED", "SCT", "SNOMEDCT"):
        entry = SNOMED_INJURIES.get(code.strip())
        if entry:
            kind, region, site = entry
            return InjuryFinding(code.strip(), "SNOMED", kind, region, site, delayed=delayed)
        return _classify_text(text) if text else None
    if code and not sysu and re.fullmatch(r"[ST]\d{2}(\.?\d+)?", code.strip().upper()):
        return _classify_icd10(code, delayed)
    return _classify_text(text) if text else None
