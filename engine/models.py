"""Database schema: sessions (a dropped folder), photos and jobs; the database is the truth.

Celery only carries messages. Every state a user sees (queued, running, failed with why,
cancelled, paused) is a row here, written by the engine and by the workers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps in UTC, aware on the way out on every backend (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class JobStatus(StrEnum):
    PENDING = "pending"  # in the database, not (yet, or again) in Redis: new, or waiting to retry
    QUEUED = "queued"  # published to Redis
    PROCESSING = "processing"  # claimed by a worker
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNSUPPORTED = "unsupported"  # not a photo we can read; its reason is in `error`

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.UNSUPPORTED}
)
OPEN_STATUSES = frozenset({JobStatus.PENDING, JobStatus.QUEUED, JobStatus.PROCESSING})


class TaskName(StrEnum):
    """The Celery task names; also the `task` column of a job."""

    PROCESS_PHOTO = "process_photo"
    ANALYZE_EXIF = "analyze_exif"
    EVALUATE_QUALITY = "evaluate_quality"
    GROUP_SIMILAR = "group_similar_photos"
    APPLY_PRESET = "apply_preset"
    EXPORT_PHOTO = "export_photo"
    CLEANUP = "cleanup_old_results"
    SYSTEM_METRICS = "update_system_metrics"


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}


class Session(Base):
    """A shoot: one folder, dropped (and maybe dropped again with new photos)."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    folder: Mapped[str] = mapped_column(String(4096), unique=True)
    name: Mapped[str] = mapped_column(String(512))
    priority: Mapped[int] = mapped_column(Integer, default=5)  # 9 high, 5 medium, 1 low
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_select: Mapped[bool] = mapped_column(Boolean, default=False)
    recursive: Mapped[bool] = mapped_column(Boolean, default=False)
    preset: Mapped[str | None] = mapped_column(String(512), nullable=True)
    export_dir: Mapped[str | None] = mapped_column(String(4096), nullable=True)
    # Set (guarded by WHERE grouping_requested = false) by the worker that finishes the last
    # photo: exactly one grouping job per round of photos. Reset when photos are added.
    grouping_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    photos: Mapped[list[Photo]] = relationship(back_populates="session", passive_deletes=True)


class Photo(Base):
    """One photo: its files (a RAW + JPEG pair is one photo), analysis and outputs."""

    __tablename__ = "photos"
    __table_args__ = (UniqueConstraint("session_id", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(4096))
    files: Mapped[list[str]] = mapped_column(JSON)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING.value)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    make: Mapped[str | None] = mapped_column(String(256), nullable=True)
    model: Mapped[str | None] = mapped_column(String(256), nullable=True)
    lens: Mapped[str | None] = mapped_column(String(256), nullable=True)
    datetime_original: Mapped[str | None] = mapped_column(String(40), nullable=True)
    taken_at: Mapped[float | None] = mapped_column(Float, nullable=True)  # epoch s, grouping
    exposure_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    f_number: Mapped[float | None] = mapped_column(Float, nullable=True)
    iso: Mapped[int | None] = mapped_column(Integer, nullable=True)
    focal_length: Mapped[float | None] = mapped_column(Float, nullable=True)
    gps_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    gps_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    orientation: Mapped[int | None] = mapped_column(Integer, nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)

    focus: Mapped[float | None] = mapped_column(Float, nullable=True)
    focus_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    blurry: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    exposure: Mapped[float | None] = mapped_column(Float, nullable=True)  # mean brightness 0-1
    overexposed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    underexposed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    faces: Mapped[int | None] = mapped_column(Integer, nullable=True)
    eyes_closed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    context: Mapped[str | None] = mapped_column(String(64), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(512), nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    label: Mapped[str | None] = mapped_column(String(32), nullable=True)
    phash: Mapped[str | None] = mapped_column(String(16), nullable=True)  # 64-bit hex
    flat: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    thumbnail: Mapped[str | None] = mapped_column(String(4096), nullable=True)
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    group_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_best: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    preset: Mapped[str | None] = mapped_column(String(512), nullable=True)
    xmp_path: Mapped[str | None] = mapped_column(String(4096), nullable=True)
    export_path: Mapped[str | None] = mapped_column(String(4096), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    session: Mapped[Session] = relationship(back_populates="photos")


class Job(Base):
    """One unit of queued work. Its id is stable across retries; each attempt has a task id."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status", "status"),
        Index("ix_jobs_session", "session_id", "status"),
        Index("ix_jobs_photo", "photo_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), nullable=True
    )
    photo_id: Mapped[int | None] = mapped_column(
        ForeignKey("photos.id", ondelete="CASCADE"), nullable=True
    )
    task: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer)  # user scale: 9 high .. 1 low
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    crashes: Mapped[int] = mapped_column(Integer, default=0)  # attempts that killed the worker
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    traceback: Mapped[str | None] = mapped_column(Text, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(256), nullable=True)
    worker_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    celery_task_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class EngineFlag(Base):
    """Small persisted engine switches (the queue's paused flag)."""

    __tablename__ = "engine_flags"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))
