"""What `process --wait --json` and `report` print: one summary per session, one row per
photo. The field names are documented in the README and are part of the CLI's contract."""

from __future__ import annotations

from typing import Any

from engine.db import Database
from engine.sessions import session_info, session_photos

REPORT_FIELDS = (
    "path", "files", "status", "error",
    "make", "model", "lens", "datetime_original", "exposure_time", "f_number", "iso",
    "focal_length", "gps_lat", "gps_lon", "orientation", "width", "height",
    "focus", "focus_score", "blurry", "exposure", "overexposed", "underexposed",
    "faces", "eyes_closed", "context", "score", "reason", "rating", "label",
    "group_id", "is_best", "preset", "xmp_path", "export_path", "thumbnail",
)  # fmt: skip


def summary(db: Database, session_id: int, elapsed_s: float) -> dict[str, Any]:
    info = session_info(db, session_id)
    return {
        "session_id": info.id,
        "folder": info.folder,
        "total": info.total,
        "completed": info.completed,
        "failed": info.failed,
        "cancelled": info.cancelled,
        "unsupported": info.unsupported,
        "groups": info.groups,
        "elapsed_s": round(elapsed_s, 2),
        "failures": [{"file": name, "error": error} for name, error in info.failures],
    }


def photo_rows(db: Database, session_id: int) -> list[dict[str, Any]]:
    session_info(db, session_id)  # raises a clear error for an unknown session
    photos = session_photos(db, session_id)
    return [{name: getattr(p, name) for name in REPORT_FIELDS} for p in photos]
