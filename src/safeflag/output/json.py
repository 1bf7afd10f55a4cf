"""The contract's JSON object for one attendance (one line of NDJSON in batch)."""

from __future__ import annotations

import json
from typing import Any

from ..models import CheckResult, FieldComparison

__all__ = ["to_dict", "to_json_line"]


def _explain(comparisons: tuple[FieldComparison, ...]) -> list[dict[str, Any]]:
    return [{"field": c.field, "level": c.level, "weight": round(c.weight, 2)} for c in comparisons]


def to_dict(result: CheckResult) -> dict[str, Any]:
    """Contract keys first (attendance_id, arrival, match, flags, warnings, errors), then extras."""
    m = result.match
    out: dict[str, Any] = {
        "attendance_id": result.attendance_id,
        "arrival": result.arrival.isoformat() if result.arrival else None,
        "match": {
            "person_id": m.person_id,
            "score": m.score,
            "band": m.band,
            "candidates": [{"person_id": c.person_id, "score": c.score, "band": c.band,
                            "note": c.note, "explanation": _explain(c.comparisons)}
                           for c in m.candidates],
            "method": m.method,
            "explanation": _explain(m.comparisons),
        },
        "flags": [{
            "code": f.code, "status": f.status, "subject": f.subject, "person_id": f.person_id,
            "start": f.start.isoformat(), "end": f.end.isoformat() if f.end else None,
            "local_authority": f.local_authority, "contact": f.contact, "category": f.category,
            "relationship": f.relationship, "confirmed": f.confirmed,
        } for f in result.flags],
        "warnings": [{
            "code": w.code, "level": w.level, "subject": w.subject, "evidence": list(w.evidence),
            "source": w.source, "message": w.message, "confirmed": w.confirmed,
        } for w in result.warnings],
        "errors": list(result.errors),
        "not_arrival": result.not_arrival,
        "message_id": result.message_id,
        "injury": result.injury,
        "notes": list(result.notes),
    }
    return out


def to_json_line(result: CheckResult) -> str:
    return json.dumps(to_dict(result), ensure_ascii=False, separators=(",", ":"))
