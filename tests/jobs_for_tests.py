"""Test-only task module, loaded by workers through JUNMAI_TASK_MODULES (the documented
way to add task modules): jobs that fail, sleep or crash on purpose, built with the
engine's own run_job so they follow the product's claim, cancel and retry rules.

Each job appends "<job id> <attempt>" to <data dir>/ran.log when its body starts, so tests
can see order and attempts.
"""

from __future__ import annotations

import os
import signal
import time

from celery import Task, shared_task

from engine.runner import Attempt, run_job

FLAKY = "tests.flaky"  # fails on its first two attempts
SLEEPY = "tests.sleepy"  # sleeps SLEEP_S, checking for cancellation every 0.1 s
STUCK = "tests.stuck"  # one stage that never returns (only the supervisor can stop it)
SUICIDAL = "tests.suicidal"  # its worker dies (SIGKILL) on every attempt
SLEEP_S = 3.0


def _record(attempt: Attempt) -> None:
    log = attempt.ctx.settings.data_dir / "ran.log"
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"{attempt.job.id} {attempt.job.attempts} {time.time()}\n")


@shared_task(name=FLAKY, bind=True)
def flaky(self: Task, job_id: int) -> None:
    def body(attempt: Attempt) -> None:
        _record(attempt)
        if attempt.job.attempts <= 2:
            raise RuntimeError(f"planned failure on attempt {attempt.job.attempts}")

    run_job(self, job_id, body)


@shared_task(name=SLEEPY, bind=True)
def sleepy(self: Task, job_id: int) -> None:
    def body(attempt: Attempt) -> None:
        _record(attempt)
        deadline = time.monotonic() + SLEEP_S
        while time.monotonic() < deadline:
            time.sleep(0.1)
            attempt.checkpoint("sleeping")

    run_job(self, job_id, body)


@shared_task(name=STUCK, bind=True)
def stuck(self: Task, job_id: int) -> None:
    def body(attempt: Attempt) -> None:
        _record(attempt)
        time.sleep(3600)

    run_job(self, job_id, body)


@shared_task(name=SUICIDAL, bind=True)
def suicidal(self: Task, job_id: int) -> None:
    def body(attempt: Attempt) -> None:
        _record(attempt)
        os.kill(os.getpid(), signal.SIGKILL)

    run_job(self, job_id, body)


FIXABLE = "tests.fixable"  # fails until <data dir>/fixed exists (a problem the user then fixes)


@shared_task(name=FIXABLE, bind=True)
def fixable(self: Task, job_id: int) -> None:
    def body(attempt: Attempt) -> None:
        _record(attempt)
        if not (attempt.ctx.settings.data_dir / "fixed").exists():
            raise RuntimeError("the share is offline")

    run_job(self, job_id, body)


def runs(data_dir) -> list[tuple[int, int, float]]:  # type: ignore[no-untyped-def]
    """(job id, attempt, start time) of every job body that started, in order."""
    log = data_dir / "ran.log"
    if not log.exists():
        return []
    rows = [line.split() for line in log.read_text(encoding="utf-8").splitlines()]
    return [(int(job), int(attempt), float(at)) for job, attempt, at in rows]
