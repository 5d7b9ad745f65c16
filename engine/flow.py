"""How a session flows: photos are analysed; when the last one is settled, one grouping job;
after grouping, a preset job for each photo that goes on; after its preset, its export.

Every way a job ends (its worker finishes it, a retry budget runs out, a worker crash, a
user's cancel) goes through this module, which ends the job and creates what comes next
in the same write transaction, with the session's row locked: the next step happens
exactly once however many workers finish at the same moment, and nobody ever sees a
session with nothing open that is not really done.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from celery import Celery
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session as OrmSession

from engine import jobs
from engine.celery_app import PRIORITY_HIGH, score_priority
from engine.config import RetryPolicy
from engine.db import Database
from engine.jobs import NewJob, add_queued, send
from engine.models import OPEN_STATUSES, Job, JobStatus, Photo, Session, TaskName, utcnow
from engine.publish import Message

AUTO_SELECT_MIN_SCORE = 3.5
PHOTO_TASKS = (TaskName.PROCESS_PHOTO.value,)
_OPEN = [s.value for s in OPEN_STATUSES]


def finish_job(
    db: Database,
    app: Celery,
    job_id: int,
    task_id: str,
    status: JobStatus,
    error: str | None = None,
    photo_values: Mapping[str, Any] | None = None,
) -> bool:
    """The worker ends its attempt with a final status, storing what it found about the
    photo in the same commit. False if the job was cancelled meanwhile (nothing stored)."""
    with db.write() as session:
        _lock_session_of(session, job_id)
        ended = jobs.finish(session, job_id, task_id, status, error)
        if ended and photo_values:
            photo_id = session.scalar(select(Job.photo_id).where(Job.id == job_id))
            session.execute(
                update(Photo)
                .where(Photo.id == photo_id)
                .values(**photo_values, updated_at=utcnow())
            )
        messages = _next_steps(session, job_id) if ended else []
    send(db, app, messages)
    return ended


def fail_attempt(
    db: Database,
    app: Celery,
    job_id: int,
    task_id: str | None,
    error: str,
    traceback: str | None,
    policy: RetryPolicy,
    *,
    crashed: bool = False,
) -> JobStatus | None:
    """An attempt failed (raised, crashed its worker, or ran out of time): retried later by
    the rules, or failed for good, in which case the session moves on."""
    with db.write() as session:
        _lock_session_of(session, job_id)
        status = jobs.fail_attempt(
            session, job_id, task_id, error, traceback, policy, crashed=crashed
        )
        messages = _next_steps(session, job_id) if status is JobStatus.FAILED else []
    send(db, app, messages)
    return status


def cancel(db: Database, app: Celery, job_ids: Sequence[int]) -> list[int]:
    """Cancel open jobs; a cancelled photo counts as settled for its shoot."""
    with db.write() as session:
        shoots = session.scalars(
            select(Job.session_id).where(Job.id.in_(job_ids), Job.session_id.is_not(None))
        )
        shoot_ids = sorted({s for s in shoots if s is not None})
        for shoot_id in shoot_ids:
            _lock_session(session, shoot_id)
        cancelled = jobs.cancel(session, job_ids)
        photo_ids = [j.photo_id for j in cancelled if j.task in PHOTO_TASKS]
        for chunk in _chunks(photo_ids):
            session.execute(
                update(Photo)
                .where(Photo.id.in_(chunk))
                .values(status=JobStatus.CANCELLED.value, error="cancelled", updated_at=utcnow())
            )
        settled = {j.session_id for j in cancelled if j.task in PHOTO_TASKS and j.session_id}
        messages = [m for shoot_id in sorted(settled) for m in _photo_settled(session, shoot_id)]
    send(db, app, messages)
    return [job.id for job in cancelled]


def _chunks(ids: Sequence[int | None], size: int = 5000) -> list[list[int | None]]:
    """Stay under SQLite's limit on bound parameters."""
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def _lock_session_of(session: OrmSession, job_id: int) -> None:
    session_id = session.scalar(select(Job.session_id).where(Job.id == job_id))
    _lock_session(session, session_id)


def _lock_session(session: OrmSession, session_id: int | None) -> None:
    """Serialise the shoot's next-step decisions (PostgreSQL row lock; SQLite's writers are
    already serialised by BEGIN IMMEDIATE)."""
    if session_id is not None:
        session.execute(select(Session.id).where(Session.id == session_id).with_for_update())


def _next_steps(session: OrmSession, job_id: int) -> list[Message]:
    """What follows a job that has just become final, created in the caller's transaction."""
    job = session.get_one(Job, job_id)
    if job.session_id is None:
        return []
    if job.task in PHOTO_TASKS:
        if job.status != JobStatus.COMPLETED.value:
            session.execute(
                update(Photo)
                .where(Photo.id == job.photo_id)
                .values(status=job.status, error=job.error, updated_at=utcnow())
            )
        return _photo_settled(session, job.session_id)
    if job.status != JobStatus.COMPLETED.value:
        return []
    if job.task == TaskName.GROUP_SIMILAR.value:
        return _grouped(session, job.session_id)
    if job.task == TaskName.APPLY_PRESET.value:
        return add_queued(
            session,
            [NewJob(TaskName.EXPORT_PHOTO, job.priority, job.session_id, job.photo_id)],
        )
    return []


def _photo_settled(session: OrmSession, session_id: int) -> list[Message]:
    """If no photo of the shoot is still being analysed, its grouping job — once."""
    still_open = session.scalar(
        select(func.count(Job.id)).where(
            Job.session_id == session_id, Job.task.in_(PHOTO_TASKS), Job.status.in_(_OPEN)
        )
    )
    if still_open:
        return []
    claimed = session.execute(
        update(Session)
        .where(Session.id == session_id, Session.grouping_requested.is_(False))
        .values(grouping_requested=True)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return []
    priority = session.scalar(select(Session.priority).where(Session.id == session_id))
    return add_queued(session, [NewJob(TaskName.GROUP_SIMILAR, priority or 5, session_id)])


def later_priority(urgent: bool, score: float | None) -> int:
    """Priority of a scored photo's preset and export jobs (an urgent session stays urgent)."""
    return PRIORITY_HIGH if urgent else score_priority(score)


def _grouped(session: OrmSession, session_id: int) -> list[Message]:
    """A preset job for each analysed photo that goes on (and has none yet)."""
    shoot = session.get_one(Session, session_id)
    already = select(Job.photo_id).where(
        Job.session_id == session_id,
        Job.task == TaskName.APPLY_PRESET.value,
        Job.status.in_([JobStatus.COMPLETED.value, *_OPEN]),
    )
    query = select(Photo.id, Photo.score).where(
        Photo.session_id == session_id,
        Photo.status == JobStatus.COMPLETED.value,
        Photo.id.not_in(already),
    )
    if shoot.auto_select:
        query = query.where(Photo.score >= AUTO_SELECT_MIN_SCORE)
    return add_queued(
        session,
        [
            NewJob(
                TaskName.APPLY_PRESET, later_priority(shoot.urgent, row.score), session_id, row.id
            )
            for row in session.execute(query.order_by(Photo.id))
        ],
    )
