"""JobQueueManager: the one facade the window and the CLI use. Every method returns plain
snapshots; none asks Celery's slow broadcast `inspect()` anything."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from celery import Celery
from sqlalchemy import func, insert, select, update

from engine import broker, flow, jobs, sessions
from engine.analysis import pipeline
from engine.analysis.formats import PhotoFiles, collect_photos
from engine.analysis.xmp import XmpMetadata
from engine.celery_app import (
    PRIORITY_HIGH,
    PRIORITY_MEDIUM,
    PRIORITY_NAMES,
    QUEUES,
    create_app,
    priority_lists,
)
from engine.config import Settings
from engine.db import Database
from engine.errors import JunmaiError
from engine.metrics import HostSnapshot
from engine.models import (
    EngineFlag,
    Job,
    JobStatus,
    Photo,
    Session,
    TaskName,
    utcnow,
)
from engine.snapshots import (
    JobInfo,
    PhotoSummary,
    QueueStats,
    SessionInfo,
    SubmitResult,
    WorkerInfo,
)
from engine.worker import PAUSED_KEY, STANDBY_QUEUE, WORKERS_SET, heartbeat_key

PAUSED_FLAG = "paused"
FLAG_LABELS = {"pick": "Green", "reject": "Red"}  # Lightroom colour labels
SUPERVISOR_KEY = "junmai:supervisor:{host}"
METRICS_PATTERN = "junmai:metrics:*"


class SubmitError(JunmaiError):
    """A drop that cannot become a session (nothing to process, folder unreachable)."""


@dataclass(frozen=True)
class _FoundPhoto:
    files: PhotoFiles
    size: int
    mtime_ns: int


def parse_priority(value: str | int) -> int:
    """'high' / 'medium' / 'low' (or 1-9) to the user scale."""
    if isinstance(value, int):
        if not 1 <= value <= 9:
            raise JunmaiError(f"priority {value} is not valid: use 1-9 or high/medium/low")
        return value
    try:
        return PRIORITY_NAMES[value.lower()]
    except KeyError:
        raise JunmaiError(f"priority {value!r} is not valid: use high, medium or low") from None


class JobQueueManager:
    """Submit, watch and steer the queue. Safe to use from any process on the data dir."""

    def __init__(self, settings: Settings, redis_url: str, db: Database | None = None) -> None:
        self.settings = settings
        self.redis_url = redis_url
        self.db = db or Database(settings.db_url)
        self.app: Celery = create_app(redis_url)
        self.redis: redis.Redis = broker.client(redis_url)

    def close(self) -> None:
        self.redis.close()
        self.app.close()

    # --- submitting -------------------------------------------------------------------

    def submit_session_processing(
        self,
        folder: str | os.PathLike[str],
        *,
        recursive: bool = False,
        priority: str | int = PRIORITY_MEDIUM,
        auto_select: bool = False,
        preset: str | None = None,
    ) -> SubmitResult:
        """A folder becomes a session (or gets its new and changed photos added to it)."""
        level = parse_priority(priority)
        root = _reachable_folder(Path(folder))
        found = [_stat(p) for p in collect_photos(root, recursive)]
        if not found:
            raise SubmitError(f"no photos found in {root}")
        return self._submit(root, found, level, recursive, auto_select, preset)

    def submit_batch_processing(
        self, paths: Sequence[str | os.PathLike[str]], *, priority: str | int = PRIORITY_MEDIUM
    ) -> list[int]:
        """Single files, each added to the session of its folder. Returns the new job ids."""
        by_folder: dict[Path, list[_FoundPhoto]] = {}
        for raw in paths:
            path = Path(raw).resolve()
            if not path.is_file():
                raise SubmitError(f"not a file (or no longer there): {path}")
            photo = PhotoFiles(primary=path, files=(path,))
            by_folder.setdefault(path.parent, []).append(_stat(photo))
        job_ids: list[int] = []
        for folder, found in by_folder.items():
            result = self._submit(folder, found, parse_priority(priority), False, False, None)
            job_ids.extend(result.job_ids)
        return job_ids

    def submit_photo_processing(
        self, path: str | os.PathLike[str], *, priority: str | int = PRIORITY_MEDIUM
    ) -> int | None:
        """One file; returns its job id (None when it was already processed unchanged)."""
        ids = self.submit_batch_processing([path], priority=priority)
        return ids[0] if ids else None

    def _submit(
        self,
        folder: Path,
        found: list[_FoundPhoto],
        priority: int,
        recursive: bool,
        auto_select: bool,
        preset: str | None,
    ) -> SubmitResult:
        urgent = priority >= PRIORITY_HIGH
        with self.db.write() as session:
            shoot = session.scalar(select(Session).where(Session.folder == str(folder)))
            if shoot is None:
                shoot = Session(folder=str(folder), name=folder.name or str(folder))
                session.add(shoot)
            shoot.priority, shoot.urgent = priority, urgent
            shoot.recursive = shoot.recursive or recursive
            shoot.auto_select, shoot.preset = auto_select, preset
            shoot.updated_at = utcnow()
            session.flush()
            known = {
                row.path: row
                for row in session.execute(
                    select(Photo.id, Photo.path, Photo.size, Photo.mtime_ns).where(
                        Photo.session_id == shoot.id
                    )
                )
            }
            fresh: list[dict[str, Any]] = []
            changed: list[int] = []
            for item in found:
                row = known.get(str(item.files.primary))
                if row is None:
                    fresh.append(_photo_row(shoot.id, item))
                elif (row.size, row.mtime_ns) != (item.size, item.mtime_ns):
                    changed.append(row.id)
                    session.execute(
                        update(Photo).where(Photo.id == row.id).values(**_reset_photo(item))
                    )
            photo_ids = list(changed)
            if fresh:
                photo_ids += session.scalars(
                    insert(Photo).returning(Photo.id, sort_by_parameter_order=True), fresh
                ).all()
            messages = []
            if photo_ids:
                shoot.grouping_requested = False
                messages = jobs.add_queued(
                    session,
                    [
                        jobs.NewJob(TaskName.PROCESS_PHOTO, priority, shoot.id, photo_id)
                        for photo_id in photo_ids
                    ],
                )
            session_id = shoot.id
        jobs.send(self.db, self.app, messages)
        return SubmitResult(
            session_id=session_id,
            folder=str(folder),
            found=len(found),
            new=len(messages),
            job_ids=tuple(m.job_id for m in messages),
        )

    # --- watching ---------------------------------------------------------------------

    def get_job_status(self, job_id: int) -> JobInfo:
        infos = self._jobs(select(Job).where(Job.id == job_id))
        if not infos:
            raise JunmaiError(f"no job {job_id}")
        return infos[0]

    def list_jobs(
        self, status: str | None = None, session_id: int | None = None, limit: int = 500
    ) -> list[JobInfo]:
        query = select(Job).order_by(Job.id.desc()).limit(limit)
        if status is not None:
            query = query.where(Job.status == status)
        if session_id is not None:
            query = query.where(Job.session_id == session_id)
        return self._jobs(query)

    def get_failed_jobs(self, limit: int = 500) -> list[JobInfo]:
        return self.list_jobs(JobStatus.FAILED.value, limit=limit)

    def _jobs(self, query: Any) -> list[JobInfo]:
        budget = self.settings.retry.max_retries + 1
        with self.db.read() as session:
            rows = list(session.scalars(query))
            paths = dict(
                session.execute(
                    select(Photo.id, Photo.path).where(
                        Photo.id.in_({r.photo_id for r in rows if r.photo_id})
                    )
                ).all()
            )
        return [
            JobInfo(
                id=r.id,
                session_id=r.session_id,
                photo_id=r.photo_id,
                photo_path=paths.get(r.photo_id) if r.photo_id else None,
                task=r.task,
                queue=r.queue,
                priority=r.priority,
                status=r.status,
                attempts=r.attempts,
                max_attempts=budget,
                error=r.error,
                traceback=r.traceback,
                worker=r.worker,
                created_at=r.created_at,
                started_at=r.started_at,
                finished_at=r.finished_at,
            )
            for r in rows
        ]

    def get_queue_stats(self) -> QueueStats:
        """Messages waiting per queue: one pipelined LLEN over every priority list."""
        with self.redis.pipeline(transaction=False) as pipe:
            for queue in QUEUES:
                for name in priority_lists(queue):
                    pipe.llen(name)
            pipe.exists(PAUSED_KEY)
            replies = pipe.execute()
        steps = len(priority_lists(QUEUES[0]))
        depth = {q: sum(replies[i * steps : (i + 1) * steps]) for i, q in enumerate(QUEUES)}
        with self.db.read() as session:
            counts = dict(
                session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
            )
        return QueueStats(time.time(), depth, counts, paused=bool(replies[-1]))

    def get_worker_stats(self) -> list[WorkerInfo]:
        """Every worker that talks to this Redis: heartbeats (one MGET) merged with what each
        machine's supervisor knows (starting, restarting, dead)."""
        names = sorted(_text(n) for n in self.redis.smembers(WORKERS_SET))
        beats = self.redis.mget([heartbeat_key(n) for n in names]) if names else []
        live = {n: json.loads(b) for n, b in zip(names, beats, strict=True) if b}
        supervised: dict[str, dict[str, Any]] = {}
        for key in self.redis.scan_iter(SUPERVISOR_KEY.format(host="*")):
            raw = self.redis.get(key)
            if raw:
                for record in json.loads(raw)["workers"]:
                    supervised[record["name"]] = record
        workers = []
        for name in sorted(set(live) | set(supervised)):
            beat, record = live.get(name, {}), supervised.get(name, {})
            state = record.get("state") if record.get("state") in _SUPERVISOR_STATES else None
            workers.append(
                WorkerInfo(
                    name=name,
                    host=beat.get("host") or record.get("host") or name.partition("@")[2],
                    pid=beat.get("pid") or record.get("pid"),
                    state=state or beat.get("state") or "dead",
                    job_id=beat.get("job_id"),
                    task=beat.get("task"),
                    photo=beat.get("photo"),
                    stage=beat.get("stage"),
                    processed=beat.get("processed", 0),
                    failed=beat.get("failed", 0),
                    rss=beat.get("rss"),
                    cpu_pct=beat.get("cpu_pct"),
                    restarts=record.get("restarts", 0),
                    last_heartbeat=beat.get("ts"),
                    note=record.get("note"),
                )
            )
        return workers

    def host_metrics(self) -> list[HostSnapshot]:
        """The latest load snapshot of every machine working on this Redis."""
        keys = sorted(self.redis.scan_iter(METRICS_PATTERN))
        values = self.redis.mget(keys) if keys else []
        return [HostSnapshot.from_dict(json.loads(v)) for v in values if v]

    def list_sessions(self, limit: int = 100) -> list[SessionInfo]:
        return sessions.list_sessions(self.db, limit)

    def session_info(self, session_id: int) -> SessionInfo:
        return sessions.session_info(self.db, session_id)

    def session_photos(self, session_id: int) -> list[Photo]:
        return sessions.session_photos(self.db, session_id)

    def photo_summaries(self, session_id: int) -> list[PhotoSummary]:
        return sessions.photo_summaries(self.db, session_id)

    def set_photo_rating(
        self, photo_id: int, rating: int | None = None, flag: str | None = ""
    ) -> Path:
        """The photographer's own verdict: stars (0-5) and/or a flag ("pick", "reject", or
        None to clear), stored and written to the photo's XMP like the engine's own."""
        if rating is not None and not 0 <= rating <= 5:
            raise JunmaiError(f"rating {rating} is not valid: use 0-5 stars")
        if flag not in ("", None, *FLAG_LABELS):
            raise JunmaiError(f"flag {flag!r} is not valid: use pick, reject or none")
        with self.db.write() as session:
            photo = session.get(Photo, photo_id)
            if photo is None:
                raise JunmaiError(f"no photo {photo_id}")
            if rating is not None:
                photo.rating = rating
            if flag != "":
                photo.label = FLAG_LABELS.get(flag or "")
            meta = XmpMetadata(rating=photo.rating or 0, label=photo.label)
            shoot = session.get_one(Session, photo.session_id)
            path = pipeline.write_xmp(photo, shoot, self.settings, meta)
            photo.xmp_path = str(path)
        return path

    # --- steering ---------------------------------------------------------------------

    def cancel_job(self, job_id: int) -> bool:
        return bool(self.cancel_jobs([job_id]))

    def cancel_jobs(self, job_ids: Iterable[int]) -> list[int]:
        """Queued jobs are cancelled at once; running ones stop at their next stage (the
        owning supervisor ends a worker whose stage runs on). Returns the cancelled ids."""
        return flow.cancel(self.db, self.app, list(job_ids))

    def is_paused(self) -> bool:
        with self.db.read() as session:
            flag = session.get(EngineFlag, PAUSED_FLAG)
        return flag is not None and flag.value == "1"

    def pause_queue(self) -> None:
        """Running jobs finish; nothing new starts, on any worker, until resumed (persisted:
        workers started later start paused)."""
        self._set_paused(True)
        self.redis.set(PAUSED_KEY, "1")
        for queue in QUEUES:
            self.app.control.cancel_consumer(queue, reply=False)

    def resume_queue(self) -> None:
        self._set_paused(False)
        self.redis.delete(PAUSED_KEY)
        for queue in QUEUES:
            self.app.control.add_consumer(queue, reply=False)
        self.app.control.cancel_consumer(STANDBY_QUEUE, reply=False)

    def _set_paused(self, paused: bool) -> None:
        with self.db.write() as session:
            session.merge(EngineFlag(name=PAUSED_FLAG, value="1" if paused else "0"))

    def purge_queue(self, queue: str | None = None) -> int:
        """Drop every waiting message of a queue (or of all): the jobs end `cancelled`."""
        queues = [queue] if queue else list(QUEUES)
        unknown = set(queues) - set(QUEUES)
        if unknown:
            raise JunmaiError(f"no queue {sorted(unknown)[0]!r}: queues are {', '.join(QUEUES)}")
        with self.db.read() as session:
            ids = list(
                session.scalars(
                    select(Job.id).where(
                        Job.queue.in_(queues),
                        Job.status.in_([JobStatus.QUEUED.value, JobStatus.PENDING.value]),
                    )
                )
            )
        cancelled = flow.cancel(self.db, self.app, ids)
        self.redis.delete(*[name for q in queues for name in priority_lists(q)])
        return len(cancelled)

    def retry_failed_job(self, job_id: int) -> bool:
        return bool(self.retry_jobs([job_id]))

    def retry_all_failed(self) -> list[int]:
        with self.db.read() as session:
            ids = list(session.scalars(select(Job.id).where(Job.status == JobStatus.FAILED.value)))
        return self.retry_jobs(ids)

    def retry_jobs(self, job_ids: Sequence[int]) -> list[int]:
        """Failed jobs run again with a fresh attempt budget."""
        ids = jobs.requeue(self.db, job_ids, only_failed=True)
        if ids:
            with self.db.write() as session:
                photo_ids = session.scalars(
                    select(Job.photo_id).where(
                        Job.id.in_(ids), Job.task == TaskName.PROCESS_PHOTO.value
                    )
                ).all()
                session.execute(
                    update(Photo)
                    .where(Photo.id.in_(photo_ids))
                    .values(status=JobStatus.PENDING.value, error=None)
                )
                # the photo's session is grouped again once these photos settle
                session.execute(
                    update(Session)
                    .where(Session.id.in_(select(Photo.session_id).where(Photo.id.in_(photo_ids))))
                    .values(grouping_requested=False)
                )
            jobs.publish_due(self.db, self.app)
        return ids


_SUPERVISOR_STATES = {"starting", "restarting", "dead"}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _reachable_folder(folder: Path) -> Path:
    try:
        resolved = folder.expanduser().resolve()
        if not resolved.exists():
            raise SubmitError(f"folder not found: {folder}")
        if not resolved.is_dir():
            raise SubmitError(f"not a folder: {folder}")
        os.listdir(resolved)
    except PermissionError:
        raise SubmitError(f"folder not readable (permission denied): {folder}") from None
    except OSError as exc:
        raise SubmitError(f"folder not reachable: {folder} ({exc.strerror or exc})") from None
    return resolved


def _stat(files: PhotoFiles) -> _FoundPhoto:
    try:
        stat = files.primary.stat()
        return _FoundPhoto(files, stat.st_size, stat.st_mtime_ns)
    except OSError:
        return _FoundPhoto(files, -1, -1)  # vanished since the listing: its job says so


def _photo_row(session_id: int, item: _FoundPhoto) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "path": str(item.files.primary),
        **_reset_photo(item),
    }


def _reset_photo(item: _FoundPhoto) -> dict[str, Any]:
    """Identity and a clean slate: a changed file is analysed from scratch."""
    return {
        "files": [str(p) for p in item.files.files],
        "size": item.size,
        "mtime_ns": item.mtime_ns,
        "status": JobStatus.PENDING.value,
        "error": None,
        "updated_at": utcnow(),
    }
