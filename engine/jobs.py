"""Job state transitions, each one guarded in the database so that at-least-once delivery
becomes exactly-once effects: a message runs only if its job is queued under that very
attempt id; a finished, cancelled or superseded job ignores late or duplicate messages.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import Celery
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session as OrmSession

from engine.celery_app import DEFAULT, ROUTES
from engine.config import RetryPolicy
from engine.db import Database
from engine.errors import BrokerError
from engine.models import FINAL_STATUSES, OPEN_STATUSES, Job, JobStatus, utcnow
from engine.publish import Message, publish

CRASHES_BEFORE_FAILING = 2
CRASH_ERROR = "crashed the decoder: the worker died twice while processing this photo"


@dataclass(frozen=True)
class NewJob:
    task: str
    priority: int
    session_id: int | None = None
    photo_id: int | None = None


@dataclass(frozen=True)
class Claimed:
    """A job a worker now runs."""

    id: int
    task: str
    session_id: int | None
    photo_id: int | None
    attempts: int
    priority: int
    started_at: datetime


def backoff_s(retry_number: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Seconds before retry n (1-based): uniform in [base*2^(n-1), base*2^n], capped.

    With the default base of 2 s: 2-4 s, 4-8 s, 8-16 s; never more than the cap (600 s).
    """
    rng = rng or random.Random()
    low = policy.base_s * 2 ** (retry_number - 1)
    return min(rng.uniform(low, 2 * low), policy.cap_s)


def new_task_id() -> str:
    return str(uuid.uuid4())


def add_queued(session: OrmSession, jobs: Sequence[NewJob]) -> list[Message]:
    """Insert jobs already marked queued under fresh attempt ids, inside the caller's
    transaction (one multi-row INSERT); send the returned messages with `send` once it has
    committed."""
    if not jobs:
        return []
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "task": job.task,
            "queue": ROUTES.get(job.task, DEFAULT),
            "priority": job.priority,
            "session_id": job.session_id,
            "photo_id": job.photo_id,
            "status": JobStatus.QUEUED.value,
            "celery_task_id": new_task_id(),
            "created_at": now,
            "queued_at": now,
        }
        for job in jobs
    ]
    ids = session.scalars(insert(Job).returning(Job.id, sort_by_parameter_order=True), rows).all()
    return [
        Message(job_id, row["task"], row["celery_task_id"], row["priority"])
        for job_id, row in zip(ids, rows, strict=True)
    ]


def enqueue(db: Database, app: Celery, jobs: Sequence[NewJob]) -> list[int]:
    """Insert and publish jobs in one go."""
    with db.write() as session:
        messages = add_queued(session, jobs)
    send(db, app, messages)
    return [m.job_id for m in messages]


def send(db: Database, app: Celery, messages: Sequence[Message]) -> None:
    """Publish; if Redis fails, the jobs go back to pending and the owner sends them later."""
    if not messages:
        return
    try:
        publish(app, messages)
    except Exception as exc:  # kombu raises transport-specific errors
        with db.write() as session:
            for message in messages:
                session.execute(
                    update(Job)
                    .where(Job.id == message.job_id, Job.celery_task_id == message.task_id)
                    .where(Job.status == JobStatus.QUEUED.value)
                    .values(status=JobStatus.PENDING.value, celery_task_id=None)
                )
        raise BrokerError(f"Redis did not take the jobs: {exc}") from exc


def publish_due(db: Database, app: Celery, limit: int = 1000) -> int:
    """Send pending jobs whose wait is over (retries, and jobs a crash left unsent)."""
    now = utcnow()
    with db.write() as session:
        rows = session.execute(
            select(Job.id, Job.task, Job.priority)
            .where(Job.status == JobStatus.PENDING.value)
            .where((Job.not_before.is_(None)) | (Job.not_before <= now))
            .order_by(Job.priority.desc(), Job.id)
            .limit(limit)
        ).all()
        messages = [Message(r.id, r.task, new_task_id(), r.priority) for r in rows]
        for message in messages:
            session.execute(
                update(Job)
                .where(Job.id == message.job_id, Job.status == JobStatus.PENDING.value)
                .values(
                    status=JobStatus.QUEUED.value,
                    celery_task_id=message.task_id,
                    queued_at=now,
                    not_before=None,
                )
            )
    send(db, app, messages)
    return len(messages)


def claim(db: Database, job_id: int, task_id: str, worker: str, pid: int) -> Claimed | None:
    """Start an attempt: counted in the database *before* any work, so a photo that kills
    its worker still uses up attempts. None means: not ours to run (skip the message)."""
    now = utcnow()
    with db.write() as session:
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.celery_task_id == task_id)
            .where(Job.status == JobStatus.QUEUED.value)
            .values(
                status=JobStatus.PROCESSING.value,
                attempts=Job.attempts + 1,
                worker=worker,
                worker_pid=pid,
                started_at=now,
                error=None,
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        job = session.get_one(Job, job_id)
        return Claimed(
            job.id, job.task, job.session_id, job.photo_id, job.attempts, job.priority, now
        )


def is_still_running(db: Database, job_id: int, task_id: str) -> bool:
    """False once the job was cancelled (or taken over) while this attempt ran."""
    with db.read() as session:
        status = session.scalar(
            select(Job.status).where(Job.id == job_id, Job.celery_task_id == task_id)
        )
    return status == JobStatus.PROCESSING.value


def finish(
    session: OrmSession, job_id: int, task_id: str, status: JobStatus, error: str | None = None
) -> bool:
    """End this attempt with a final status; False if the job was cancelled meanwhile."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.celery_task_id == task_id)
        .where(Job.status == JobStatus.PROCESSING.value)
        .values(status=status.value, error=error, finished_at=utcnow())
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def fail_attempt(
    session: OrmSession,
    job_id: int,
    task_id: str | None,
    error: str,
    traceback: str | None,
    policy: RetryPolicy,
    *,
    crashed: bool = False,
) -> JobStatus | None:
    """An attempt failed: wait and retry (pending with a backoff) or fail for good.

    Returns the job's new status, or None if the job was no longer this attempt's.
    """
    query = select(Job).where(Job.id == job_id, Job.status == JobStatus.PROCESSING.value)
    if task_id is not None:
        query = query.where(Job.celery_task_id == task_id)
    job = session.scalars(query.with_for_update()).first()
    if job is None:
        return None
    job.error = error
    job.traceback = traceback
    if crashed:
        job.crashes += 1
    if crashed and job.crashes >= CRASHES_BEFORE_FAILING:
        job.status, job.error = JobStatus.FAILED.value, CRASH_ERROR
    elif job.attempts > policy.max_retries:
        job.status = JobStatus.FAILED.value
    else:
        job.status = JobStatus.PENDING.value
        job.not_before = utcnow() + timedelta(seconds=backoff_s(job.attempts, policy))
    if job.status == JobStatus.FAILED.value:
        job.finished_at = utcnow()
    job.celery_task_id = None
    return JobStatus(job.status)


def processing_on(db: Database, pids: Iterable[int]) -> list[tuple[int, str | None]]:
    """(job id, attempt id) of the jobs that the given worker processes are running."""
    pids = list(pids)
    if not pids:
        return []
    with db.read() as session:
        rows = session.execute(
            select(Job.id, Job.celery_task_id).where(
                Job.status == JobStatus.PROCESSING.value, Job.worker_pid.in_(pids)
            )
        ).all()
    return [(r.id, r.celery_task_id) for r in rows]


def cancel(session: OrmSession, job_ids: Sequence[int]) -> list[Job]:
    """Cancel open jobs now (persisted: it survives restarts). Returns the cancelled jobs."""
    now = utcnow()
    jobs = list(
        session.scalars(
            select(Job).where(Job.id.in_(job_ids), Job.status.in_([s.value for s in OPEN_STATUSES]))
        )
    )
    for job in jobs:
        job.status, job.finished_at, job.error = JobStatus.CANCELLED.value, now, "cancelled"
    return jobs


def requeue(db: Database, job_ids: Sequence[int], *, only_failed: bool) -> list[int]:
    """Back to pending with a fresh attempt budget (a user's retry); the owner sends them."""
    allowed = [JobStatus.FAILED.value] if only_failed else [s.value for s in FINAL_STATUSES]
    with db.write() as session:
        ids = list(
            session.scalars(select(Job.id).where(Job.id.in_(job_ids), Job.status.in_(allowed)))
        )
        if ids:
            session.execute(
                update(Job)
                .where(Job.id.in_(ids))
                .values(
                    status=JobStatus.PENDING.value,
                    attempts=0,
                    crashes=0,
                    error=None,
                    traceback=None,
                    not_before=None,
                    finished_at=None,
                    celery_task_id=None,
                )
            )
    return ids


def processing_on_host(db: Database, host: str) -> list[tuple[int, str | None, int | None]]:
    """(job id, attempt id, worker pid) of the jobs workers of this host are running."""
    with db.read() as session:
        rows = session.execute(
            select(Job.id, Job.celery_task_id, Job.worker_pid).where(
                Job.status == JobStatus.PROCESSING.value, Job.worker.like(f"%@{host}")
            )
        ).all()
    return [(r.id, r.celery_task_id, r.worker_pid) for r in rows]
