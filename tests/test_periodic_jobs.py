"""The beat's periodic jobs, sent the way the beat sends them, run by real workers."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

import pytest
from sqlalchemy import update

from engine import jobs
from engine.beat import schedule
from engine.models import Job, JobStatus, Session, TaskName, utcnow
from tests import jobs_for_tests as tj
from tests.conftest import wait_until

pytestmark = pytest.mark.engine


def _send_like_beat(manager, task):
    entry = next(e for e in schedule().values() if e["task"] == task)
    manager.app.send_task(task, **entry["options"])


def test_system_metrics_reach_every_window_through_redis(make_settings, start_engine):
    _, manager = start_engine(make_settings())
    assert manager.host_metrics() == []
    _send_like_beat(manager, TaskName.SYSTEM_METRICS)
    (snapshot,) = wait_until(manager.host_metrics, 60)
    assert snapshot.host == socket.gethostname()
    assert snapshot.ram_total_bytes > 0
    assert snapshot.gpus == () and snapshot.gpu_note  # no NVIDIA GPU on this machine


def test_cleanup_removes_expired_job_records_and_thumbnails(
    make_settings, start_engine, tmp_path, samples_dir
):
    settings = make_settings(JUNMAI_RETENTION_DAYS="1")
    _, manager = start_engine(settings)
    folder = tmp_path / "old shoot"
    folder.mkdir()
    (folder / "a.jpg").write_bytes((samples_dir / "exif-samples/jpg/Canon_40D.jpg").read_bytes())
    result = manager.submit_session_processing(folder)
    wait_until(lambda: manager.session_info(result.session_id).done, 60)
    (photo,) = manager.session_photos(result.session_id)
    thumbnail = photo.thumbnail
    assert thumbnail and os.path.exists(thumbnail)
    (recent,) = jobs.enqueue(manager.db, manager.app, [jobs.NewJob(tj.SLEEPY, 5)])
    wait_until(lambda: manager.get_job_status(recent).status == JobStatus.COMPLETED, 60)
    long_ago = utcnow() - timedelta(days=3)
    with manager.db.write() as session:
        session.execute(
            update(Job).where(Job.session_id == result.session_id).values(finished_at=long_ago)
        )
        session.execute(
            update(Session).where(Session.id == result.session_id).values(updated_at=long_ago)
        )

    _send_like_beat(manager, TaskName.CLEANUP)
    wait_until(lambda: not manager.list_jobs(session_id=result.session_id), 60)
    assert manager.get_job_status(recent).status == JobStatus.COMPLETED  # not expired: kept
    (photo,) = manager.session_photos(result.session_id)
    assert photo.thumbnail is None and not os.path.exists(thumbnail)
    assert photo.status == JobStatus.COMPLETED and photo.model == "Canon EOS 40D"  # the shoot stays
