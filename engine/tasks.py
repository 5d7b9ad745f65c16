"""The Celery tasks: thin wrappers that run their job by the engine's rules (runner.py),
call the analysis code, store what it found and move the session on (flow.py)."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from pathlib import Path

from celery import Task, shared_task
from sqlalchemy import delete, select, update

from engine.analysis import pipeline
from engine.fsutil import TEMP_SUFFIX
from engine.metrics import MetricsCollector
from engine.models import FINAL_STATUSES, Job, JobStatus, Photo, Session, TaskName, utcnow
from engine.runner import Attempt, PhotoValues, run_job
from engine.worker import context

log = logging.getLogger(__name__)

METRICS_TTL_S = 180


@shared_task(name=TaskName.PROCESS_PHOTO.value, bind=True)
def process_photo(self: Task, job_id: int) -> None:
    """Analyse one photo from one decode: EXIF, quality, faces, context, hash, thumbnail."""

    def body(attempt: Attempt) -> PhotoValues:
        photo = attempt.photo
        thumbnail = attempt.ctx.settings.thumbnails_dir / f"{photo.id}.jpg"
        columns = pipeline.analyze(
            pipeline.photo_files(photo.path, photo.files), thumbnail, attempt.checkpoint
        )
        return {**columns, "status": JobStatus.COMPLETED.value}

    run_job(self, job_id, body)


@shared_task(name=TaskName.ANALYZE_EXIF.value, bind=True)
def analyze_exif(self: Task, job_id: int) -> None:
    """Read (again) a photo's EXIF only."""

    def body(attempt: Attempt) -> PhotoValues:
        return pipeline.exif_columns(Path(attempt.photo.path))

    run_job(self, job_id, body)


@shared_task(name=TaskName.EVALUATE_QUALITY.value, bind=True)
def evaluate_quality(self: Task, job_id: int) -> None:
    """Score (again) a photo's quality, faces and context."""

    def body(attempt: Attempt) -> PhotoValues:
        photo = attempt.photo
        return pipeline.quality_columns(
            pipeline.photo_files(photo.path, photo.files), attempt.checkpoint
        )

    run_job(self, job_id, body)


@shared_task(name=TaskName.GROUP_SIMILAR.value, bind=True)
def group_similar_photos(self: Task, job_id: int) -> None:
    """Group the session's bursts and near-duplicates and pick the best of each group."""

    def body(attempt: Attempt) -> None:
        session_id = attempt.job.session_id
        with attempt.ctx.db.read() as session:
            photos = list(
                session.scalars(
                    select(Photo).where(
                        Photo.session_id == session_id,
                        Photo.status == JobStatus.COMPLETED.value,
                    )
                )
            )
        assignments = pipeline.group(photos, attempt.ctx.settings.group_window_s)
        attempt.checkpoint("saving groups")
        with attempt.ctx.db.write() as session:
            session.execute(
                update(Photo)
                .where(Photo.session_id == session_id)
                .values(group_id=None, is_best=None)
            )
            if assignments:  # one executemany, not a statement per photo
                session.execute(
                    update(Photo),
                    [
                        {"id": photo_id, "group_id": group_id, "is_best": is_best}
                        for photo_id, (group_id, is_best) in assignments.items()
                    ],
                )

    run_job(self, job_id, body)


@shared_task(name=TaskName.APPLY_PRESET.value, bind=True)
def apply_preset(self: Task, job_id: int) -> None:
    """Write the photo's rating, label and develop settings where Lightroom reads them."""

    def body(attempt: Attempt) -> PhotoValues:
        preset_name, xmp_path = pipeline.apply_preset(
            attempt.photo, attempt.shoot, attempt.ctx.settings
        )
        return {"preset": preset_name, "xmp_path": str(xmp_path)}

    run_job(self, job_id, body)


@shared_task(name=TaskName.EXPORT_PHOTO.value, bind=True)
def export_photo(self: Task, job_id: int) -> None:
    """Export a developed full-size JPEG into the session's export folder."""

    def body(attempt: Attempt) -> PhotoValues:
        attempt.checkpoint("exporting")
        path = pipeline.export(attempt.photo, attempt.shoot, attempt.ctx.settings)
        return {"export_path": str(path)}

    run_job(self, job_id, body)


@shared_task(name=TaskName.CLEANUP.value)
def cleanup_old_results() -> dict[str, int]:
    """Remove finished job records, thumbnails of old sessions and leftover temporary files
    older than the retention setting. Photos, sidecars and exports are the user's: kept."""
    ctx = context()
    cutoff = utcnow() - timedelta(days=ctx.settings.retention_days)
    with ctx.db.write() as session:
        removed_jobs = session.execute(
            delete(Job).where(
                Job.status.in_([s.value for s in FINAL_STATUSES]), Job.finished_at < cutoff
            )
        ).rowcount  # type: ignore[attr-defined]
        old = list(
            session.execute(
                select(Photo.id, Photo.thumbnail)
                .join(Session)
                .where(Session.updated_at < cutoff, Photo.thumbnail.is_not(None))
            )
        )
        session.execute(
            update(Photo).where(Photo.id.in_([row.id for row in old])).values(thumbnail=None)
        )
    removed_files = sum(_unlink(Path(row.thumbnail)) for row in old)
    stale = time.time() - 24 * 3600
    for folder in (ctx.settings.thumbnails_dir, ctx.settings.data_dir / "outputs"):
        if folder.is_dir():
            removed_files += sum(
                _unlink(p) for p in folder.rglob(f"*{TEMP_SUFFIX}") if p.stat().st_mtime < stale
            )
    return {"jobs": int(removed_jobs or 0), "files": removed_files}


def _unlink(path: Path) -> int:
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    return 1


_collector: MetricsCollector | None = None  # one per process: CPU % is measured between calls


@shared_task(name=TaskName.SYSTEM_METRICS.value)
def update_system_metrics() -> None:
    """Publish this host's CPU/RAM/disk/GPU snapshot so every window sees every machine."""
    global _collector
    ctx = context()
    if _collector is None:
        _collector = MetricsCollector(ctx.settings.data_dir)
    snapshot = _collector.snapshot()
    ctx.redis.set(
        f"junmai:metrics:{snapshot.host}", json.dumps(snapshot.to_dict()), ex=METRICS_TTL_S
    )
