"""How one attempt of a job runs, the same for every task: claimed in the database first,
stopped between stages when cancelled or past the soft limit, ended by outcome.

Task modules of one's own (JUNMAI_TASK_MODULES, used by the tests for failing or slow jobs)
build their tasks with `run_job`, so they follow the same rules as the engine's.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from celery import Task
from celery.exceptions import Reject
from sqlalchemy import select

from engine import flow, jobs
from engine.errors import JunmaiError, PhotoError, UnsupportedPhoto
from engine.models import JobStatus, Photo, Session, utcnow
from engine.worker import PAUSED_KEY, WorkerContext, context

log = logging.getLogger(__name__)

PAUSED_REQUEUE_DELAY_S = 0.5


class Cancelled(JunmaiError):
    """The job was cancelled while it ran: stop without writing anything more."""


class SoftTimeLimitExceeded(JunmaiError):
    """The job ran past the soft limit; it is retried like any failed attempt."""


PhotoValues = Mapping[str, Any]
CANCEL_CHECK_EVERY_S = 0.25  # how stale a stage check's view of a cancel may be


@dataclass
class Attempt:
    """One running attempt of a job, as the task body sees it."""

    ctx: WorkerContext
    job: jobs.Claimed
    task_id: str
    _checked_at: float = field(default_factory=time.monotonic, repr=False)

    def checkpoint(self, stage: str) -> None:
        """Between stages: record the stage, stop if cancelled or past the soft limit."""
        with self.ctx.activity.lock:
            self.ctx.activity.stage = stage
        if time.monotonic() - self._checked_at >= CANCEL_CHECK_EVERY_S:
            self._checked_at = time.monotonic()
            if not jobs.is_still_running(self.ctx.db, self.job.id, self.task_id):
                raise Cancelled(f"job {self.job.id} was cancelled")
        elapsed = (utcnow() - self.job.started_at).total_seconds()
        if elapsed > self.ctx.settings.limits.soft_s:
            raise SoftTimeLimitExceeded(
                f"stopped after {elapsed:.0f} s at {stage} (limit "
                f"{self.ctx.settings.limits.soft_s:.0f} s)"
            )

    @cached_property
    def shoot(self) -> Session:
        """The job's session row, read once per attempt."""
        with self.ctx.db.read() as session:
            return session.get_one(Session, self.job.session_id)

    @cached_property
    def photo(self) -> Photo:
        """The job's photo row, read once per attempt."""
        with self.ctx.db.read() as session:
            return session.get_one(Photo, self.job.photo_id)


def run_job(task: Task, job_id: int, body: Callable[[Attempt], PhotoValues | None]) -> None:
    """Run one attempt of a job by the engine's rules.

    The body may return photo column values: they are stored in the same transaction that
    completes the job, so a photo's results and its job's completion are one commit.

    PhotoError ends the job (`unsupported` or `failed`, not retried: a broken file stays
    broken); any other exception is a failed attempt, retried with backoff until the budget
    is spent. However it ends, the session moves on (flow.py).
    """
    ctx = context()
    task_id = str(task.request.id)
    if ctx.redis.exists(PAUSED_KEY):
        # Paused between our consumer being cancelled and this message arriving: give it
        # back; the cancel_consumer broadcast is handled before we are asked again.
        time.sleep(PAUSED_REQUEUE_DELAY_S)
        raise Reject("queue paused", requeue=True)
    claimed = jobs.claim(ctx.db, job_id, task_id, ctx.name, os.getpid())
    if claimed is None:
        log.info("job %s attempt %s is not ours to run (ended or superseded)", job_id, task_id)
        return
    attempt = Attempt(ctx, claimed, task_id)
    photo_name = Path(attempt.photo.path).name if claimed.photo_id is not None else None
    ctx.activity.begin(job_id, claimed.task, photo_name)
    ok = False
    try:
        values = body(attempt)
        ok = flow.finish_job(
            ctx.db, ctx.app, job_id, task_id, JobStatus.COMPLETED, photo_values=values
        )
    except Cancelled:
        log.info("job %s cancelled while running", job_id)
    except PhotoError as exc:
        status = JobStatus.UNSUPPORTED if isinstance(exc, UnsupportedPhoto) else JobStatus.FAILED
        flow.finish_job(ctx.db, ctx.app, job_id, task_id, status, error=str(exc))
    except Exception as exc:  # every other failure is retried by the rules
        log.exception("job %s attempt %s failed", job_id, claimed.attempts)
        flow.fail_attempt(
            ctx.db,
            ctx.app,
            job_id,
            task_id,
            _one_line(exc),
            traceback.format_exc(),
            ctx.settings.retry,
        )
    finally:
        ctx.activity.end(ok)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _photo_name(ctx: WorkerContext, claimed: jobs.Claimed) -> str | None:
    if claimed.photo_id is None:
        return None
    with ctx.db.read() as session:
        path = session.scalar(select(Photo.path).where(Photo.id == claimed.photo_id))
    return Path(path).name if path else None
