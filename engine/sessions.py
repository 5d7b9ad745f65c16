"""Reading shoots from the database: progress per session and its photos. Needs no Redis,
so a report can be read while no engine runs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from engine.db import Database
from engine.errors import JunmaiError
from engine.models import OPEN_STATUSES, Job, JobStatus, Photo, Session
from engine.snapshots import SessionInfo


def list_sessions(db: Database, limit: int = 100) -> list[SessionInfo]:
    """The newest shoots first."""
    with db.read() as session:
        ids = list(session.scalars(select(Session.id).order_by(Session.id.desc()).limit(limit)))
    return [session_info(db, i) for i in ids]


def session_info(db: Database, session_id: int) -> SessionInfo:
    """A shoot's progress, counted by photo; raises JunmaiError for an unknown id."""
    with db.read() as session:
        shoot = session.get(Session, session_id)
        if shoot is None:
            raise JunmaiError(f"no session {session_id}")
        by_status = dict(
            session.execute(
                select(Photo.status, func.count())
                .where(Photo.session_id == session_id)
                .group_by(Photo.status)
            ).all()
        )
        groups = session.scalar(
            select(func.count(func.distinct(Photo.group_id))).where(
                Photo.session_id == session_id, Photo.group_id.is_not(None)
            )
        )
        open_jobs = session.scalar(
            select(func.count(Job.id)).where(
                Job.session_id == session_id,
                Job.status.in_([s.value for s in OPEN_STATUSES]),
            )
        )
        failures = tuple(
            (Path(r.path).name, r.error or "")
            for r in session.execute(
                select(Photo.path, Photo.error).where(
                    Photo.session_id == session_id,
                    Photo.status.in_([JobStatus.FAILED.value, JobStatus.UNSUPPORTED.value]),
                )
            )
        )
        return SessionInfo(
            id=shoot.id,
            name=shoot.name,
            folder=shoot.folder,
            total=sum(by_status.values()),
            completed=by_status.get(JobStatus.COMPLETED.value, 0),
            failed=by_status.get(JobStatus.FAILED.value, 0),
            unsupported=by_status.get(JobStatus.UNSUPPORTED.value, 0),
            cancelled=by_status.get(JobStatus.CANCELLED.value, 0),
            groups=groups or 0,
            open_jobs=open_jobs or 0,
            created_at=shoot.created_at,
            failures=failures,
        )


def session_photos(db: Database, session_id: int) -> list[Photo]:
    """The session's photo rows (detached), in file order."""
    with db.read() as session:
        return list(
            session.scalars(
                select(Photo).where(Photo.session_id == session_id).order_by(Photo.path)
            )
        )
