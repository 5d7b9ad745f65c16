"""One engine per data dir: the owner starts Redis and workers, clients find it, nothing
is left behind when it stops; queued work survives a restart."""

from __future__ import annotations

import os
import uuid

import psutil
import pytest

from engine import jobs
from engine.celery_app import QUEUES, priority_lists
from engine.errors import BrokerError, EngineNotRunning
from engine.models import JobStatus
from engine.runtime import Engine, EngineAlreadyRunning, connect, read_state
from engine.worker import PAUSED_KEY
from tests import jobs_for_tests as tj
from tests.conftest import wait_until

pytestmark = pytest.mark.engine


def _children(pid):
    return {p.pid for p in psutil.Process(pid).children(recursive=True)}


def test_clients_share_the_owners_redis_and_nothing_is_left_after_it_stops(make_settings):
    settings = make_settings()
    owner = Engine(settings)
    owner_manager = owner.start()
    try:
        wait_until(lambda: len([w for w in owner_manager.get_worker_stats() if w.pid]) == 2, 60)
        first, second = connect(settings), connect(settings)
        assert first.redis_url == second.redis_url == owner_manager.redis_url
        assert read_state(settings).redis_kind == "private"
        with pytest.raises(EngineAlreadyRunning):
            Engine(settings).start()
        children = _children(os.getpid())
        assert len(children) >= 4  # redis, two workers, beat
        first.close()
        second.close()
    finally:
        owner.stop()
    wait_until(lambda: not any(psutil.pid_exists(p) for p in children), 30)
    assert read_state(settings) is None
    with pytest.raises(EngineNotRunning):
        connect(settings)


def test_queued_job_missing_from_redis_runs_after_restart(make_settings):
    settings = make_settings()
    engine = Engine(settings)
    manager = engine.start()
    manager.pause_queue()
    (job_id,) = jobs.enqueue(manager.db, manager.app, [jobs.NewJob(tj.SLEEPY, 5)])
    # The message is lost from Redis (an AOF lost, a purge by another tool).
    manager.redis.delete(*[name for q in QUEUES for name in priority_lists(q)])
    assert manager.get_queue_stats().total_depth == 0
    engine.stop()

    engine = Engine(settings)
    manager = engine.start()
    try:
        assert manager.is_paused()
        assert manager.redis.exists(PAUSED_KEY)
        assert manager.get_queue_stats().total_depth == 1
        manager.resume_queue()
        wait_until(lambda: manager.get_job_status(job_id).status == JobStatus.COMPLETED, 60)
    finally:
        engine.stop()


def test_job_interrupted_by_an_engine_stop_is_retried_at_the_next_start(make_settings):
    settings = make_settings()
    engine = Engine(settings)
    manager = engine.start()
    (job_id,) = jobs.enqueue(manager.db, manager.app, [jobs.NewJob(tj.STUCK, 5)])
    wait_until(lambda: manager.get_job_status(job_id).status == JobStatus.PROCESSING, 60)
    engine.stop()  # the stuck job cannot finish: its worker is ended

    engine = Engine(settings)
    manager = engine.start()
    try:
        info = manager.get_job_status(job_id)
        assert info.status in (JobStatus.PENDING, JobStatus.QUEUED, JobStatus.PROCESSING)
        assert info.attempts == 1
        wait_until(lambda: manager.get_job_status(job_id).attempts == 2, 60)
    finally:
        engine.stop()


def test_unreachable_external_redis_fails_start_cleanly(make_settings):
    settings = make_settings(REDIS_URL="redis://127.0.0.1:1/0")
    engine = Engine(settings)
    with pytest.raises(BrokerError, match="not reachable"):
        engine.start(timeout=30)
    assert read_state(settings) is None
    assert not (settings.data_dir / "engine.json").exists()
    # the lock was released: a correctly configured engine can start on this data dir
    good = Engine(make_settings())
    good.start()
    good.stop()


@pytest.mark.postgres
def test_a_session_of_jobs_runs_on_postgresql(make_settings):
    import psycopg

    name = f"junmai_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        settings = make_settings(JUNMAI_DB_URL=f"postgresql://postgres@127.0.0.1:5432/{name}")
        assert settings.db_url.startswith("postgresql+psycopg://")
        engine = Engine(settings)
        manager = engine.start()
        try:
            ids = jobs.enqueue(
                manager.db, manager.app, [jobs.NewJob(tj.FLAKY, 5), jobs.NewJob(tj.SLEEPY, 5)]
            )
            wait_until(
                lambda: all(manager.get_job_status(i).status == JobStatus.COMPLETED for i in ids),
                90,
            )
            assert [manager.get_job_status(i).attempts for i in ids] == [3, 1]
        finally:
            engine.stop()
    finally:
        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
