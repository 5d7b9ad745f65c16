"""How a session flows: photos are analysed; when the last one is done, one grouping job;
after grouping, a preset job for each photo that goes on; after its preset, its export.

Each step is decided in the database inside one write transaction, so the step happens
exactly once however many workers finish at the same moment.
"""

from __future__ import annotations

from celery import Celery
from sqlalchemy import func, select, update

from engine.celery_app import PRIORITY_HIGH, score_priority
from engine.db import Database
from engine.jobs import NewJob, add_queued, send
from engine.models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    Job,
    JobStatus,
    Photo,
    Session,
    TaskName,
    utcnow,
)

AUTO_SELECT_MIN_SCORE = 3.5
PHOTO_TASKS = (TaskName.PROCESS_PHOTO.value,)


def photo_settled(db: Database, app: Celery, session_id: int | None) -> None:
    """A photo's analysis ended (completed, failed, unsupported or cancelled): if it was the
    session's last, the session's grouping job is created, once."""
    if session_id is None:
        return
    with db.write() as session:
        still_open = session.scalar(
            select(func.count(Job.id)).where(
                Job.session_id == session_id,
                Job.task.in_(PHOTO_TASKS),
                Job.status.in_([s.value for s in OPEN_STATUSES]),
            )
        )
        if still_open:
            return
        claimed = session.execute(
            update(Session)
            .where(Session.id == session_id, Session.grouping_requested.is_(False))
            .values(grouping_requested=True)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return
        priority = session.scalar(select(Session.priority).where(Session.id == session_id))
        messages = add_queued(
            session, [NewJob(TaskName.GROUP_SIMILAR, priority or 5, session_id=session_id)]
        )
    send(db, app, messages)


def settle(db: Database, app: Celery, job_id: int) -> None:
    """A job reached a final status (by its worker, a crash, or a cancel): a photo job's
    outcome is mirrored on the photo, and the session moves on."""
    with db.write() as session:
        job = session.get_one(Job, job_id)
        if job.task not in PHOTO_TASKS or job.status not in FINAL_STATUSES:
            return
        if job.status != JobStatus.COMPLETED.value:
            session.execute(
                update(Photo)
                .where(Photo.id == job.photo_id)
                .values(status=job.status, error=job.error, updated_at=utcnow())
            )
        session_id = job.session_id
    photo_settled(db, app, session_id)


def later_priority(urgent: bool, score: float | None) -> int:
    """Priority of a scored photo's preset and export jobs (an urgent session stays urgent)."""
    return PRIORITY_HIGH if urgent else score_priority(score)


def grouped(db: Database, app: Celery, session_id: int) -> int:
    """Grouping finished: queue a preset job for each photo that goes on. Returns how many."""
    with db.write() as session:
        shoot = session.get_one(Session, session_id)
        already = select(Job.photo_id).where(
            Job.session_id == session_id,
            Job.task == TaskName.APPLY_PRESET.value,
            Job.status.in_([JobStatus.COMPLETED.value, *(s.value for s in OPEN_STATUSES)]),
        )
        query = select(Photo.id, Photo.score).where(
            Photo.session_id == session_id,
            Photo.status == JobStatus.COMPLETED.value,
            Photo.id.not_in(already),
        )
        if shoot.auto_select:
            query = query.where(Photo.score >= AUTO_SELECT_MIN_SCORE)
        jobs = [
            NewJob(
                TaskName.APPLY_PRESET,
                later_priority(shoot.urgent, row.score),
                session_id=session_id,
                photo_id=row.id,
            )
            for row in session.execute(query.order_by(Photo.id))
        ]
        messages = add_queued(session, jobs)
    send(db, app, messages)
    return len(messages)


def preset_applied(
    db: Database, app: Celery, session_id: int, photo_id: int, priority: int
) -> None:
    """A photo's develop settings are written: its export follows."""
    with db.write() as session:
        messages = add_queued(
            session,
            [NewJob(TaskName.EXPORT_PHOTO, priority, session_id=session_id, photo_id=photo_id)],
        )
    send(db, app, messages)
