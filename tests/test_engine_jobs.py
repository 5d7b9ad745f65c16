"""The job engine on real parts: the product's private Redis, real solo worker processes,
a real SQLite file. Jobs come from tests/jobs_for_tests.py (loaded by the workers through
JUNMAI_TASK_MODULES)."""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest

from engine import jobs
from engine.celery_app import PRIORITY_HIGH, PRIORITY_LOW, PRIORITY_MEDIUM
from engine.models import JobStatus
from tests import jobs_for_tests as tj
from tests.conftest import wait_until

pytestmark = pytest.mark.engine


def _submit(manager, task, priority=PRIORITY_MEDIUM, count=1):
    return jobs.enqueue(manager.db, manager.app, [jobs.NewJob(task, priority)] * count)


def _status(manager, job_id):
    return manager.get_job_status(job_id).status


def _busy_worker(manager, job_id):
    def find():
        return next((w for w in manager.get_worker_stats() if w.job_id == job_id), None)

    return wait_until(find, 30)


def test_flaky_job_completes_on_its_third_attempt_after_backoffs_within_bounds(
    make_settings, start_engine
):
    settings = make_settings(JUNMAI_RETRY_BASE_S="1.0")
    _, manager = start_engine(settings)
    (job_id,) = _submit(manager, tj.FLAKY)
    wait_until(lambda: _status(manager, job_id) == JobStatus.COMPLETED, 60)

    info = manager.get_job_status(job_id)
    assert info.attempts == 3
    assert info.error is None
    starts = [at for job, _, at in tj.runs(settings.data_dir) if job == job_id]
    assert len(starts) == 3
    first_wait, second_wait = starts[1] - starts[0], starts[2] - starts[1]
    # retry 1 waits 1-2 s, retry 2 waits 2-4 s (base 1 s); the owner sends due retries
    # every half second and a worker takes a moment to pick one up.
    assert 1.0 <= first_wait <= 2.0 + 1.5
    assert 2.0 <= second_wait <= 4.0 + 1.5


def test_high_priority_jobs_run_first_after_resume(make_settings, start_engine):
    settings = make_settings(JUNMAI_WORKERS="1")
    _, manager = start_engine(settings)
    manager.pause_queue()
    low = _submit(manager, tj.SLEEPY, PRIORITY_LOW, 2)
    medium = _submit(manager, tj.SLEEPY, PRIORITY_MEDIUM, 2)
    high = _submit(manager, tj.SLEEPY, PRIORITY_HIGH, 2)
    time.sleep(1.0)
    assert tj.runs(settings.data_dir) == []
    assert manager.get_queue_stats().total_depth == 6

    manager.resume_queue()
    wait_until(lambda: len(tj.runs(settings.data_dir)) == 6, 90)
    order = [job for job, _, _ in tj.runs(settings.data_dir)]
    assert order == high + medium + low


def test_cancel_queued_job_never_runs(make_settings, start_engine):
    settings = make_settings()
    _, manager = start_engine(settings)
    manager.pause_queue()
    (job_id,) = _submit(manager, tj.SLEEPY)
    assert manager.cancel_job(job_id)
    assert _status(manager, job_id) == JobStatus.CANCELLED
    manager.resume_queue()
    (other,) = _submit(manager, tj.SLEEPY)
    wait_until(lambda: _status(manager, other) == JobStatus.COMPLETED, 60)
    assert [job for job, _, _ in tj.runs(settings.data_dir)] == [other]


def test_cancel_running_job_stops_at_its_next_stage(make_settings, start_engine):
    settings = make_settings()
    _, manager = start_engine(settings)
    (job_id,) = _submit(manager, tj.SLEEPY)
    worker = _busy_worker(manager, job_id)
    assert manager.cancel_job(job_id)
    wait_until(
        lambda: (
            manager.get_worker_stats()
            and all(w.job_id != job_id for w in manager.get_worker_stats())
        ),
        30,
    )
    assert _status(manager, job_id) == JobStatus.CANCELLED
    assert psutil.pid_exists(worker.pid)  # stopped by its own stage check, not killed


def test_cancel_of_a_stage_that_never_returns_ends_its_worker(make_settings, start_engine):
    settings = make_settings()
    _, manager = start_engine(settings)
    (job_id,) = _submit(manager, tj.STUCK)
    worker = _busy_worker(manager, job_id)
    manager.cancel_job(job_id)
    wait_until(lambda: not psutil.pid_exists(worker.pid), 30)
    wait_until(
        lambda: any(
            w.name == worker.name and w.state == "idle" for w in manager.get_worker_stats()
        ),
        60,
    )
    assert _status(manager, job_id) == JobStatus.CANCELLED


def test_worker_started_during_pause_stays_paused_until_resume(make_settings, start_engine):
    settings = make_settings(JUNMAI_WORKERS="1")
    _, manager = start_engine(settings)
    wait_until(lambda: [w for w in manager.get_worker_stats() if w.state == "idle"], 60)
    manager.pause_queue()
    (old,) = manager.get_worker_stats()
    os.kill(old.pid, signal.SIGKILL)
    wait_until(
        lambda: any(
            w.pid not in (None, old.pid) and w.state == "paused" for w in manager.get_worker_stats()
        ),
        60,
    )
    (job_id,) = _submit(manager, tj.SLEEPY)
    time.sleep(2.0)
    assert _status(manager, job_id) == JobStatus.QUEUED
    manager.resume_queue()
    wait_until(lambda: _status(manager, job_id) == JobStatus.COMPLETED, 60)


def test_purge_cancels_waiting_jobs_in_the_database(make_settings, start_engine):
    _, manager = start_engine(make_settings())
    manager.pause_queue()
    ids = _submit(manager, tj.SLEEPY, count=5)
    assert manager.get_queue_stats().total_depth == 5
    assert manager.purge_queue() == 5
    assert manager.get_queue_stats().total_depth == 0
    assert {_status(manager, i) for i in ids} == {JobStatus.CANCELLED}


def test_failed_job_runs_again_when_retried(make_settings, start_engine):
    settings = make_settings(JUNMAI_MAX_RETRIES="1", JUNMAI_RETRY_BASE_S="0.1")
    _, manager = start_engine(settings)
    (job_id,) = _submit(manager, tj.FIXABLE)
    wait_until(lambda: _status(manager, job_id) == JobStatus.FAILED, 60)
    failed = manager.get_failed_jobs()
    assert [j.id for j in failed] == [job_id]
    assert failed[0].attempts == 2
    assert failed[0].error == "RuntimeError: the share is offline"
    assert "RuntimeError" in (failed[0].traceback or "")

    (settings.data_dir / "fixed").touch()
    assert manager.retry_failed_job(job_id)
    wait_until(lambda: _status(manager, job_id) == JobStatus.COMPLETED, 60)
    assert manager.get_job_status(job_id).attempts == 1


def test_worker_killed_mid_job_the_job_completes_exactly_once(make_settings, start_engine):
    settings = make_settings()
    _, manager = start_engine(settings)
    (job_id,) = _submit(manager, tj.SLEEPY)
    worker = _busy_worker(manager, job_id)
    os.kill(worker.pid, signal.SIGKILL)
    wait_until(lambda: _status(manager, job_id) == JobStatus.COMPLETED, 60)
    time.sleep(1.0)
    info = manager.get_job_status(job_id)
    assert info.attempts == 2
    assert [a for j, a, _ in tj.runs(settings.data_dir) if j == job_id] == [1, 2]


def test_a_job_that_kills_its_worker_twice_fails_and_is_not_delivered_again(
    make_settings, start_engine
):
    settings = make_settings(JUNMAI_RETRY_BASE_S="0.1")
    _, manager = start_engine(settings)
    (job_id,) = _submit(manager, tj.SUICIDAL)
    wait_until(lambda: _status(manager, job_id) == JobStatus.FAILED, 60)
    info = manager.get_job_status(job_id)
    assert info.error == jobs.CRASH_ERROR
    assert info.attempts == 2
    time.sleep(2.0)
    assert len(tj.runs(settings.data_dir)) == 2
    assert sum(w.restarts for w in manager.get_worker_stats()) == 2


def test_hard_limit_ends_a_stuck_worker_and_fails_the_job_by_the_retry_rules(
    make_settings, start_engine
):
    settings = make_settings(
        JUNMAI_HARD_LIMIT_S="2", JUNMAI_MAX_RETRIES="1", JUNMAI_RETRY_BASE_S="0.1"
    )
    _, manager = start_engine(settings)
    (job_id,) = _submit(manager, tj.STUCK)
    wait_until(lambda: _status(manager, job_id) == JobStatus.FAILED, 60)
    info = manager.get_job_status(job_id)
    assert info.attempts == 2
    assert "hard limit of 2 s" in (info.error or "")


def test_soft_limit_stops_a_job_at_its_next_stage(make_settings, start_engine):
    settings = make_settings(
        JUNMAI_SOFT_LIMIT_S="0.3", JUNMAI_MAX_RETRIES="1", JUNMAI_RETRY_BASE_S="0.1"
    )
    _, manager = start_engine(settings)
    (job_id,) = _submit(manager, tj.SLEEPY)
    wait_until(lambda: _status(manager, job_id) == JobStatus.FAILED, 60)
    assert "SoftTimeLimitExceeded: stopped after" in (manager.get_job_status(job_id).error or "")


def test_worker_is_recycled_after_its_job_limit(make_settings, start_engine):
    settings = make_settings(JUNMAI_WORKERS="1", JUNMAI_RECYCLE_AFTER="2")
    _, manager = start_engine(settings)
    first = wait_until(lambda: [w for w in manager.get_worker_stats() if w.pid], 60)[0]
    ids = _submit(manager, tj.SLEEPY, count=3)
    wait_until(lambda: all(_status(manager, i) == JobStatus.COMPLETED for i in ids), 90)
    (now,) = manager.get_worker_stats()
    assert now.pid != first.pid
    assert now.restarts == 0
