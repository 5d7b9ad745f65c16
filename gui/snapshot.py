"""What the window shows, gathered in one go off the UI thread: `PanelSnapshot` (frozen) and
`PanelCollector`, the function the poller calls once a second."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import redis
from sqlalchemy.exc import SQLAlchemyError

from engine.manager import JobQueueManager
from engine.metrics import HostSnapshot, MetricsCollector
from engine.snapshots import JobInfo, QueueStats, SessionInfo, WorkerInfo

SESSIONS_SHOWN = 20
JOBS_SHOWN = 200
FULL_REFRESH_S = 30.0
FINAL = ("completed", "failed", "cancelled", "unsupported")


@dataclass(frozen=True)
class PanelSnapshot:
    """Everything on screen at `taken_at`. `error` says why the engine part is missing
    (Redis or the database not answering); the machine part is always there."""

    taken_at: float
    host: HostSnapshot
    other_hosts: tuple[HostSnapshot, ...]
    queue: QueueStats | None
    workers: tuple[WorkerInfo, ...]
    sessions: tuple[SessionInfo, ...]
    jobs: tuple[JobInfo, ...] | None  # None: not read (the jobs table is not on screen)
    jobs_filter: str | None
    poll_s: float
    error: str | None = None

    @property
    def busy(self) -> bool:
        """Work is waiting or running (quitting now would interrupt it)."""
        if self.queue is None:
            return False
        open_jobs = sum(
            self.queue.jobs_by_status.get(s, 0) for s in ("pending", "queued", "processing")
        )
        return open_jobs > 0 or any(w.state == "busy" for w in self.workers)


class PanelCollector:
    """Builds a `PanelSnapshot`. Call it from one thread only (the poller's): the metrics
    collector measures CPU between calls on the same thread.

    Cheap parts (queue depth and counts, workers, machine load) are read on every call. The
    session list and the jobs table cost database work proportional to their size, so they
    are read again only when the job counts show that something changed (or every
    `FULL_REFRESH_S`), and the jobs only while the jobs table is on screen.
    """

    def __init__(self, manager: JobQueueManager, metrics: MetricsCollector) -> None:
        self.manager = manager
        self.metrics = metrics
        self._lock = threading.Lock()
        self._jobs_filter: str | None = None
        self._want_jobs = True
        self._host = socket.gethostname()
        self._counts: dict[str, int] | None = None
        self._sessions: tuple[SessionInfo, ...] = ()
        self._sessions_at = 0.0
        self._jobs: tuple[JobInfo, ...] = ()
        self._jobs_key: tuple[str | None, dict[str, int]] | None = None

    @property
    def jobs_filter(self) -> str | None:
        with self._lock:
            return self._jobs_filter

    @jobs_filter.setter
    def jobs_filter(self, status: str | None) -> None:
        with self._lock:
            self._jobs_filter = status

    @property
    def want_jobs(self) -> bool:
        with self._lock:
            return self._want_jobs

    @want_jobs.setter
    def want_jobs(self, wanted: bool) -> None:
        with self._lock:
            self._want_jobs = wanted

    def __call__(self) -> PanelSnapshot:
        started = time.perf_counter()
        host = self.metrics.snapshot()
        jobs_filter = self.jobs_filter
        try:
            queue = self.manager.get_queue_stats()
            workers = tuple(self.manager.get_worker_stats())
            others = tuple(h for h in self.manager.host_metrics() if h.host != self._host)
            sessions = self._read_sessions(queue.jobs_by_status)
            jobs = self._read_jobs(jobs_filter, queue.jobs_by_status)
        except (redis.exceptions.RedisError, SQLAlchemyError, OSError) as exc:
            self._counts = None  # read everything again once the engine answers
            self._jobs_key = None
            return PanelSnapshot(
                taken_at=time.time(),
                host=host,
                other_hosts=(),
                queue=None,
                workers=(),
                sessions=(),
                jobs=None,
                jobs_filter=jobs_filter,
                poll_s=time.perf_counter() - started,
                error=describe_engine_error(exc),
            )
        return PanelSnapshot(
            taken_at=time.time(),
            host=host,
            other_hosts=others,
            queue=queue,
            workers=workers,
            sessions=sessions,
            jobs=jobs,
            jobs_filter=jobs_filter,
            poll_s=time.perf_counter() - started,
        )

    def _read_sessions(self, counts: dict[str, int]) -> tuple[SessionInfo, ...]:
        """All shown sessions when the job counts say a session may have been added or
        reopened; else only the sessions still running; nothing when no count moved."""
        now = time.monotonic()
        previous, self._counts = self._counts, dict(counts)
        if previous == counts and now - self._sessions_at < FULL_REFRESH_S:
            return self._sessions
        reopened = sum(counts.get(s, 0) for s in FINAL) < sum(
            (previous or {}).get(s, 0) for s in FINAL
        )
        if (
            previous is None
            or sum(counts.values()) != sum(previous.values())
            or reopened
            or (now - self._sessions_at >= FULL_REFRESH_S)
        ):
            self._sessions = tuple(self.manager.list_sessions(limit=SESSIONS_SHOWN))
            self._sessions_at = now
        else:
            self._sessions = tuple(
                s if s.done else self.manager.session_info(s.id) for s in self._sessions
            )
        return self._sessions

    def _read_jobs(
        self, jobs_filter: str | None, counts: dict[str, int]
    ) -> tuple[JobInfo, ...] | None:
        """The jobs table's rows, read only while it is shown and when counts moved."""
        if not self.want_jobs:
            self._jobs_key = None
            return None
        key = (jobs_filter, dict(counts))
        if key != self._jobs_key:
            self._jobs = tuple(self.manager.list_jobs(status=jobs_filter, limit=JOBS_SHOWN))
            self._jobs_key = key
        return self._jobs


def describe_engine_error(exc: BaseException) -> str:
    """One line for the banner: which part is not answering, and what it said."""
    if isinstance(exc, redis.exceptions.RedisError):
        return f"Redis is not answering ({exc})"
    if isinstance(exc, SQLAlchemyError):
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"The database is not answering ({first})"
    return f"The engine is not answering ({exc})"
