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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from celery import Task
from celery.exceptions import Reject
from sqlalchemy import select

from engine import jobs
from engine.errors import JunmaiError, PhotoError, UnsupportedPhoto
from engine.models import JobStatus, Photo, utcnow
from engine.worker import PAUSED_KEY, WorkerContext, context

log = logging.getLogger(__name__)

PAUSED_REQUEUE_DELAY_S = 0.5


class Cancelled(JunmaiError):
    """The job was cancelled while it ran: stop without writing anything more."""


class SoftTimeLimitExceeded(JunmaiError):
    """The job ran past the soft limit; it is retried like any failed attempt."""


@dataclass
class Attempt:
    """One running attempt of a job, as the task body sees it."""

    ctx: WorkerContext
    job: jobs.Claimed
    task_id: str

    def checkpoint(self, stage: str) -> None:
        """Between stages: record the stage, stop if cancelled or past the soft limit."""
        with self.ctx.activity.lock:
            self.ctx.activity.stage = stage
        if not jobs.is_still_running(self.ctx.db, self.job.id, self.task_id):
            raise Cancelled(f"job {self.job.id} was cancelled")
        elapsed = (utcnow() - self.job.started_at).total_seconds()
        if elapsed > self.ctx.settings.limits.soft_s:
            raise SoftTimeLimitExceeded(
                f"stopped after {elapsed:.0f} s at {stage} (limit "
                f"{self.ctx.settings.limits.soft_s:.0f} s)"
            )

    def photo(self) -> Photo:
        with self.ctx.db.read() as session:
            return session.get_one(Photo, self.job.photo_id)


Settle = Callable[[WorkerContext, jobs.Claimed, JobStatus], None]


def run_job(
    task: Task, job_id: int, body: Callable[[Attempt], None], settle: Settle | None = None
) -> None:
    """Run one attempt of a job by the engine's rules.

    PhotoError ends the job (`unsupported` or `failed`, not retried: a broken file stays
    broken); any other exception is a failed attempt, retried with backoff until the budget
    is spent. `settle` runs once the job has reached a final status.
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
        log.info(
            "job %s attempt %s is not ours to run (done, cancelled or superseded)", job_id, task_id
        )
        return
    attempt = Attempt(ctx, claimed, task_id)
    ctx.activity.begin(job_id, claimed.task, _photo_name(ctx, claimed))
    final: JobStatus | None = None
    try:
        body(attempt)
        if jobs.finish(ctx.db, job_id, task_id, JobStatus.COMPLETED):
            final = JobStatus.COMPLETED
    except Cancelled:
        log.info("job %s cancelled while running", job_id)
    except PhotoError as exc:
        status = JobStatus.UNSUPPORTED if isinstance(exc, UnsupportedPhoto) else JobStatus.FAILED
        if jobs.finish(ctx.db, job_id, task_id, status, error=str(exc)):
            final = status
    except Exception as exc:  # every other failure is retried by the rules
        log.exception("job %s attempt %s failed", job_id, claimed.attempts)
        status_after = jobs.fail_attempt(
            ctx.db, job_id, task_id, _one_line(exc), traceback.format_exc(), ctx.settings.retry
        )
        if status_after is JobStatus.FAILED:
            final = JobStatus.FAILED
    finally:
        ctx.activity.end(ok=final is JobStatus.COMPLETED)
    if final is not None and settle is not None:
        settle(ctx, claimed, final)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _photo_name(ctx: WorkerContext, claimed: jobs.Claimed) -> str | None:
    if claimed.photo_id is None:
        return None
    with ctx.db.read() as session:
        path = session.scalar(select(Photo.path).where(Photo.id == claimed.photo_id))
    return Path(path).name if path else None
