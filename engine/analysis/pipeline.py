"""The analysis of one photo from one decode, and the outputs of a session, expressed as the
values the database stores. Tasks call these; they call the pure modules beside them."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import cv2

from engine.analysis import context, grouping, hashing, presets, score
from engine.analysis.decode import decode
from engine.analysis.exif import ExifData, read_exif
from engine.analysis.export import export_jpeg
from engine.analysis.faces import detect_faces
from engine.analysis.formats import EXPORT_FOLDER, RAW_EXTENSIONS, PhotoFiles
from engine.analysis.quality import assess_quality
from engine.analysis.thumbnail import write_thumbnail
from engine.analysis.xmp import XmpMetadata, embed_xmp, write_sidecar
from engine.config import Settings
from engine.errors import PresetError

Checkpoint = Callable[[str], None]
JPEG_SUFFIXES = (".jpg", ".jpeg")
HASH_CHUNK = 1 << 20


class SessionRow(Protocol):
    """The session fields the output steps read (a models.Session row)."""

    id: int
    folder: str
    preset: str | None
    export_dir: str | None


class PhotoRow(Protocol):
    """The photo fields the output steps read (a models.Photo row)."""

    id: int
    path: str
    files: list[str]
    taken_at: float | None
    phash: str | None
    flat: bool | None
    score: float | None
    focus: float | None
    rating: int | None
    label: str | None
    context: str | None
    preset: str | None
    content_hash: str | None
    analysis: dict[str, Any] | None


def photo_files(path: str, files: Sequence[str]) -> PhotoFiles:
    """Rebuild a photo's file set from its database row."""
    all_files = tuple(Path(f) for f in files) or (Path(path),)
    raw = next((f for f in all_files if f.suffix.lower() in RAW_EXTENSIONS), None)
    return PhotoFiles(primary=Path(path), files=all_files, raw=raw)


def exif_columns(path: Path) -> dict[str, Any]:
    return _exif_values(read_exif(path))


def _exif_values(exif: ExifData) -> dict[str, Any]:
    taken = exif.datetime_original
    return {
        "make": exif.make,
        "model": exif.model,
        "lens": exif.lens,
        "datetime_original": taken.isoformat() if taken else None,
        # Naive capture times are local to the camera: their epoch only orders a shoot.
        "taken_at": taken.timestamp() if taken else None,
        "exposure_time": exif.exposure_time,
        "f_number": exif.f_number,
        "iso": exif.iso,
        "focal_length": exif.focal_length,
        "gps_lat": exif.gps_lat,
        "gps_lon": exif.gps_lon,
    }


def content_hash(path: Path) -> str:
    """SHA-256 of the file: exact copies group together whatever their names."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def analyze(files: PhotoFiles, thumbnail: Path, checkpoint: Checkpoint) -> dict[str, Any]:
    """Everything process_photo stores (photo column values), from one decode of the photo."""
    checkpoint("decoding")
    decoded = decode(files)
    checkpoint("reading EXIF")
    exif = read_exif(files.analysis_file)
    checkpoint("analysing quality")
    columns = _quality_values(decoded.rgb, exif)
    checkpoint("hashing")
    thumbnail.parent.mkdir(parents=True, exist_ok=True)
    write_thumbnail(decoded.rgb, thumbnail)
    columns.update(
        _exif_values(exif),
        orientation=decoded.orientation,
        width=decoded.width,
        height=decoded.height,
        phash=f"{hashing.phash(decoded.rgb):016x}",
        flat=hashing.is_flat(decoded.rgb),
        content_hash=content_hash(files.analysis_file),
        thumbnail=str(thumbnail),
        error=None,
    )
    columns["analysis"] = {
        **columns["analysis"],
        "decode": decoded.source,
        "exif_warning": exif.warning,
    }
    return columns


def quality_columns(files: PhotoFiles, checkpoint: Checkpoint) -> dict[str, Any]:
    checkpoint("decoding")
    decoded = decode(files)
    checkpoint("analysing quality")
    return _quality_values(decoded.rgb, read_exif(files.analysis_file))


def _quality_values(rgb: Any, exif: ExifData) -> dict[str, Any]:
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    faces = detect_faces(gray)
    quality = assess_quality(rgb, faces)
    scene = context.classify(exif, quality, faces)
    verdict = score.overall(quality, faces, scene)
    return {
        "focus": quality.focus,
        "focus_score": quality.focus_score,
        "blurry": quality.blurry,
        "exposure": quality.brightness,
        "overexposed": quality.overexposed,
        "underexposed": quality.underexposed,
        "faces": len(faces),
        "eyes_closed": any(face.eyes_closed for face in faces),
        "context": scene.primary,
        "score": verdict.score,
        "reason": verdict.reason,
        "rating": verdict.rating,
        "label": verdict.label,
        "analysis": {
            "motion_blur": quality.motion_blur,
            "focus_on_faces": quality.focus_on_faces,
            "clipped_highlights": quality.clipped_highlights,
            "crushed_shadows": quality.crushed_shadows,
            "thirds_score": quality.thirds_score,
            "horizon_tilt_deg": quality.horizon_tilt_deg,
            "face_boxes": [list(face.box) for face in faces],
            "context_tags": list(scene.tags),
            "needs_review": verdict.needs_review,
        },
    }


def group(photos: Sequence[PhotoRow], window_s: float) -> dict[int, tuple[int | None, bool]]:
    """photo id -> (group id, is best) for the photos that belong to a group."""
    items = [
        grouping.GroupItem(
            photo_id=p.id,
            taken_at=p.taken_at,
            phash=int(p.phash, 16) if p.phash else None,
            flat=bool(p.flat),
            score=p.score or 0.0,
            content_key=p.content_hash,
            focus=p.focus or 0.0,
            focus_on_faces=bool((p.analysis or {}).get("focus_on_faces")),
        )
        for p in photos
    ]
    result = grouping.group_photos(items, window_s=window_s)
    return {pid: (a.group_id, a.is_best) for pid, a in result.items() if a.group_id is not None}


@lru_cache(maxsize=1)
def _presets_by_name() -> dict[str, presets.Preset]:
    return {preset.name: preset for preset in presets.bundled_presets()}


def preset_named(name: str) -> presets.Preset:
    known = _presets_by_name()
    if name not in known:
        raise PresetError(f"no preset named {name!r}; known: {', '.join(sorted(known))}")
    return known[name]


def read_only(folder: Path) -> bool:
    """A folder we must not write into: not writable, or marked read-only (honoured even
    for an administrator, who could write anyway: read-only means "leave it alone")."""
    try:
        marked = not folder.stat().st_mode & 0o222
    except OSError:
        return True
    return marked or not os.access(folder, os.W_OK)


def fallback_dir(shoot: SessionRow, settings: Settings) -> Path:
    """Where a shoot's outputs go when its own folder is read-only: in the data dir."""
    return settings.data_dir / "outputs" / f"{shoot.id} {Path(shoot.folder).name}"


def xmp_target(photo: PhotoRow) -> Path:
    """The file whose XMP Lightroom reads: the RAW of a pair, else the photo itself."""
    files = photo_files(photo.path, photo.files)
    return files.raw or files.primary


def write_xmp(photo: PhotoRow, shoot: SessionRow, settings: Settings, meta: XmpMetadata) -> Path:
    """Rating, label and develop settings where Lightroom reads them: embedded in a JPEG
    original when the setting asks for it, else a sidecar beside the file, merged with what
    is there. A read-only shoot gets its sidecars mirrored in the data dir instead."""
    target = xmp_target(photo)
    if not read_only(target.parent):
        if settings.embed_xmp and target.suffix.lower() in JPEG_SUFFIXES:
            return embed_xmp(target, meta)
        return write_sidecar(target, meta)
    relative = (
        target.relative_to(shoot.folder)
        if target.is_relative_to(shoot.folder)
        else Path(target.name)
    )
    mirrored = fallback_dir(shoot, settings) / "sidecars" / relative
    mirrored.parent.mkdir(parents=True, exist_ok=True)
    return write_sidecar(mirrored, meta)


def apply_preset(photo: PhotoRow, shoot: SessionRow, settings: Settings) -> tuple[str, Path]:
    """Write rating, label and the chosen preset's develop settings; returns (preset, XMP)."""
    preset = preset_named(shoot.preset or context.default_preset(photo.context))
    meta = XmpMetadata(
        rating=photo.rating or 0, label=photo.label, crs=presets.blend(preset, 100.0)
    )
    return preset.name, write_xmp(photo, shoot, settings, meta)


def export(photo: PhotoRow, shoot: SessionRow, settings: Settings) -> Path:
    """The developed full-size JPEG in the shoot's export folder (default: "Junmai Exports"
    inside it; in the data dir when the shoot's folder is read-only). Carries rating and
    label but no develop settings: its pixels are already developed."""
    files = photo_files(photo.path, photo.files)
    outputs = settings.outputs
    preset = preset_named(photo.preset) if photo.preset else None
    adjustments = presets.blend(preset, outputs.preset_amount) if preset else None
    meta = XmpMetadata(rating=photo.rating or 0, label=photo.label)
    folder = Path(shoot.export_dir or outputs.export_dir or Path(shoot.folder) / EXPORT_FOLDER)
    if read_only(folder if folder.exists() else folder.parent):
        folder = fallback_dir(shoot, settings) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return export_jpeg(
        files,
        folder,
        files.primary.stem,
        adjustments=adjustments,
        long_edge=outputs.export_long_edge,
        quality=outputs.export_quality,
        xmp=meta,
        job_id=str(photo.id),
    )
