"""Output: a :class:`~safeflag.models.CheckResult` as a contract JSON line, terminal text, or
a FHIR R4 Bundle of Flag and DetectedIssue resources."""

from .fhir import to_fhir_bundle
from .json import to_dict, to_json_line
from .text import to_text

__all__ = ["to_dict", "to_json_line", "to_text", "to_fhir_bundle"]
