"""Reading shoots from the database: progress per session and its photos. Needs no Redis,
so a report can be read while no engine runs."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession

from engine.db import Database
from engine.errors import JunmaiError
from engine.models import OPEN_STATUSES, Job, JobStatus, Photo, Session
from engine.snapshots import PhotoSummary, SessionInfo

FAILURES_LISTED = 20  # per shoot in a snapshot; the counts are always complete
_FAILED = [JobStatus.FAILED.value, JobStatus.UNSUPPORTED.value]


def list_sessions(db: Database, limit: int = 100) -> list[SessionInfo]:
    """The newest shoots first, read with a fixed number of queries however many there are."""
    with db.read() as session:
        shoots = list(session.scalars(select(Session).order_by(Session.id.desc()).limit(limit)))
        return _infos(session, shoots)


def session_info(db: Database, session_id: int) -> SessionInfo:
    """A shoot's progress, counted by photo; raises JunmaiError for an unknown id."""
    with db.read() as session:
        shoot = session.get(Session, session_id)
        if shoot is None:
            raise JunmaiError(f"no session {session_id}")
        return _infos(session, [shoot])[0]


def _infos(session: OrmSession, shoots: list[Session]) -> list[SessionInfo]:
    ids = [s.id for s in shoots]
    by_status: dict[int, dict[str, int]] = {i: {} for i in ids}
    for shoot_id, status, count in session.execute(
        select(Photo.session_id, Photo.status, func.count())
        .where(Photo.session_id.in_(ids))
        .group_by(Photo.session_id, Photo.status)
    ):
        by_status[shoot_id][status] = count
    groups = dict(
        session.execute(
            select(Photo.session_id, func.count(func.distinct(Photo.group_id)))
            .where(Photo.session_id.in_(ids), Photo.group_id.is_not(None))
            .group_by(Photo.session_id)
        ).all()
    )
    open_jobs = dict(
        session.execute(
            select(Job.session_id, func.count(Job.id))
            .where(Job.session_id.in_(ids), Job.status.in_([s.value for s in OPEN_STATUSES]))
            .group_by(Job.session_id)
        ).all()
    )
    failures: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
    for shoot_id in ids:
        if any(by_status[shoot_id].get(s) for s in _FAILED):
            failures[shoot_id] = [
                (Path(r.path).name, r.error or "")
                for r in session.execute(
                    select(Photo.path, Photo.error)
                    .where(Photo.session_id == shoot_id, Photo.status.in_(_FAILED))
                    .order_by(Photo.path)
                    .limit(FAILURES_LISTED)
                )
            ]
    return [
        SessionInfo(
            id=s.id,
            name=s.name,
            folder=s.folder,
            total=sum(by_status[s.id].values()),
            completed=by_status[s.id].get(JobStatus.COMPLETED.value, 0),
            failed=by_status[s.id].get(JobStatus.FAILED.value, 0),
            unsupported=by_status[s.id].get(JobStatus.UNSUPPORTED.value, 0),
            cancelled=by_status[s.id].get(JobStatus.CANCELLED.value, 0),
            groups=groups.get(s.id, 0),
            open_jobs=open_jobs.get(s.id, 0),
            created_at=s.created_at,
            failures=tuple(failures[s.id]),
        )
        for s in shoots
    ]


def photo_summaries(db: Database, session_id: int) -> list[PhotoSummary]:
    """The shoot's photos as a results grid needs them: one light query, no ORM objects."""
    columns = [getattr(Photo, f.name) for f in fields(PhotoSummary)]
    with db.read() as session:
        rows = session.execute(
            select(*columns).where(Photo.session_id == session_id).order_by(Photo.path)
        ).all()
    flags = {"blurry", "eyes_closed", "overexposed", "underexposed", "is_best"}  # NULL: no
    names = [f.name for f in fields(PhotoSummary)]
    values: list[dict[str, Any]] = [
        {n: bool(v) if n in flags else v for n, v in zip(names, row, strict=True)} for row in rows
    ]
    return [PhotoSummary(**v) for v in values]


def session_photos(db: Database, session_id: int) -> list[Photo]:
    """The session's photo rows (detached), in file order."""
    with db.read() as session:
        return list(
            session.scalars(
                select(Photo).where(Photo.session_id == session_id).order_by(Photo.path)
            )
        )
