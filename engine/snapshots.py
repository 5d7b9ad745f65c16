"""Immutable snapshots the engine hands to the CLI and the window: plain frozen dataclasses,
each stamped with when it was taken, safe to pass between threads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SubmitResult:
    """What a drop or `process` did."""

    session_id: int
    folder: str
    found: int  # photos in the folder
    new: int  # added (or changed since last time) and queued
    job_ids: tuple[int, ...]


@dataclass(frozen=True)
class JobInfo:
    id: int
    session_id: int | None
    photo_id: int | None
    photo_path: str | None
    task: str
    queue: str
    priority: int
    status: str
    attempts: int
    max_attempts: int
    error: str | None
    traceback: str | None
    worker: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class QueueStats:
    """Queue depth per queue (messages waiting in Redis) and job counts by status."""

    taken_at: float
    depth: dict[str, int]
    jobs_by_status: dict[str, int]
    paused: bool

    @property
    def total_depth(self) -> int:
        return sum(self.depth.values())


@dataclass(frozen=True)
class WorkerInfo:
    """One worker as the supervisor and its own heartbeat see it."""

    name: str
    host: str
    pid: int | None
    state: str  # idle, busy, paused, starting, restarting, dead
    job_id: int | None = None
    task: str | None = None
    photo: str | None = None
    stage: str | None = None
    processed: int = 0
    failed: int = 0
    rss: int | None = None
    cpu_pct: float | None = None
    restarts: int = 0
    last_heartbeat: float | None = None
    note: str | None = None  # why it is dead or restarting, e.g. "killed by SIGKILL"


@dataclass(frozen=True)
class SessionInfo:
    """A shoot's progress, counted by photo (a RAW + JPEG pair is one photo)."""

    id: int
    name: str
    folder: str
    total: int
    completed: int
    failed: int
    unsupported: int
    cancelled: int
    groups: int
    open_jobs: int  # analysis, grouping, preset and export jobs not yet final
    created_at: datetime
    failures: tuple[tuple[str, str], ...] = field(default=())  # (file, error)

    @property
    def settled(self) -> int:
        return self.completed + self.failed + self.unsupported + self.cancelled

    @property
    def done(self) -> bool:
        return self.open_jobs == 0 and self.settled == self.total


@dataclass(frozen=True)
class PhotoSummary:
    """What a results grid shows of one photo (no EXIF, no analysis details)."""

    id: int
    path: str
    thumbnail: str | None
    status: str
    error: str | None
    rating: int | None
    label: str | None
    blurry: bool
    eyes_closed: bool
    overexposed: bool
    underexposed: bool
    group_id: int | None
    is_best: bool
    score: float | None
    reason: str | None
    export_path: str | None
