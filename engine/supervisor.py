"""Starts, watches, restarts and stops this machine's worker processes and the beat.

One thread owns every child: it starts them (so on Linux they die with it), reaps them,
restarts crashed ones with backoff, enforces the limits Celery cannot under the solo pool
(hard time limit, cancelled job still running), sends retries that are due, and publishes
what it knows to Redis so every window sees starting / restarting / dead workers.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import redis
from celery import Celery
from sqlalchemy import select

from engine import flow, jobs
from engine.broker import RedisEndpoint
from engine.config import Settings
from engine.db import Database
from engine.models import Job, JobStatus, utcnow
from engine.platform import KillOnCloseJob, child_popen_kwargs, describe_exit, self_command
from engine.worker import heartbeat_key

log = logging.getLogger(__name__)

TICK_S = 0.5
CANCEL_GRACE_S = 5.0
STOP_TIMEOUT_S = 15.0
RESTART_BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)
STABLE_AFTER_S = 60.0  # a worker up this long has its restart backoff reset
SUPERVISOR_TTL_S = 10
STOP_REQUEST_KEY = "junmai:engine:stop"


@dataclass
class Child:
    """One supervised process (a worker or the beat)."""

    name: str
    role: str
    process: subprocess.Popen[bytes] | None = None
    state: str = "starting"  # starting, running, restarting, dead, stopped
    restarts: int = 0
    started_at: float = 0.0
    start_after: float = 0.0
    note: str | None = None
    kill_reason: str | None = None  # set when we end it on purpose (limit, cancel)
    last_job: int | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


class Supervisor:
    """The owner's process manager. `run` is the body of the engine thread."""

    def __init__(self, settings: Settings, db: Database, app: Celery) -> None:
        self.settings = settings
        self.db = db
        self.app = app
        self.host = socket.gethostname()
        self.children = [
            Child(name=f"w{i}@{self.host}", role="worker") for i in range(1, settings.workers + 1)
        ]
        self.children.append(Child(name=f"beat@{self.host}", role="beat"))
        self._stop = threading.Event()
        self._job = KillOnCloseJob()
        self._redis: redis.Redis | None = None
        self._endpoint: RedisEndpoint | None = None

    # --- lifecycle (called from the engine thread) ---------------------------------------

    def run(self, endpoint: RedisEndpoint, redis_client: redis.Redis) -> None:
        """Start the children and look after them until `stop` is called."""
        self._endpoint, self._redis = endpoint, redis_client
        for child in self.children:
            self._spawn(child)
        while not self._stop.wait(TICK_S):
            try:
                self.tick()
            except Exception:  # the supervisor must outlive any one bad tick
                log.exception("supervisor tick failed")
        self._shutdown_children()

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def tick(self) -> None:
        now = time.time()
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:
                self._reap(child, now)
            elif child.process is None and child.state == "restarting" and now >= child.start_after:
                self._spawn(child)
        beats = self._heartbeats()
        for child in self.children:
            beat = beats.get(child.name)
            if beat and beat.get("pid") == child.pid:
                child.state = "running"
                self._enforce_limits(child, beat, now)
        jobs.publish_due(self.db, self.app)
        self._publish_state()
        if self._redis is not None and self._redis.get(STOP_REQUEST_KEY):
            log.info("stop requested by a client")
            self._redis.delete(STOP_REQUEST_KEY)
            self._stop.set()

    # --- children -------------------------------------------------------------------------

    def _spawn(self, child: Child) -> None:
        assert self._endpoint is not None
        env = {
            **os.environ,
            **self.settings.to_env(self._endpoint.url),
            "OMP_NUM_THREADS": "1",  # one core per worker (see worker.run)
        }
        env.pop("JUNMAI_REDIS", None)
        args = [child.name, "--owner-pid", str(os.getpid())]
        log_file = self.settings.log_dir / f"{child.name.partition('@')[0]}.log"
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_file, "ab") as out:
            child.process = subprocess.Popen(
                self_command(child.role, *args),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                **child_popen_kwargs(below_normal=True),
            )
        self._job.assign(child.process)
        child.state, child.started_at, child.kill_reason = "starting", time.time(), None
        log.info("started %s (pid %s)", child.name, child.pid)

    def _reap(self, child: Child, now: float) -> None:
        assert child.process is not None
        code = child.process.returncode
        pid = child.process.pid
        child.process = None
        recycled = code == 0 and child.kill_reason is None
        reason = child.kill_reason or describe_exit(code)
        for job_id, task_id in jobs.processing_on(self.db, [pid]):
            flow.fail_attempt(
                self.db,
                self.app,
                job_id,
                task_id,
                f"worker {child.name} ended while running this job ({reason})",
                None,
                self.settings.retry,
                crashed=child.kill_reason is None and not recycled,
            )
        if recycled:
            child.note = "recycled after its job limit"
            child.start_after = now
        else:
            backoff = RESTART_BACKOFF_S[min(child.restarts, len(RESTART_BACKOFF_S) - 1)]
            if now - child.started_at > STABLE_AFTER_S:
                backoff = RESTART_BACKOFF_S[0]
            child.note = reason
            child.start_after = now + backoff
            child.restarts += 1
            log.warning(
                "%s (pid %s) ended: %s; restarting in %.0f s", child.name, pid, reason, backoff
            )
        child.state = "restarting"

    def _enforce_limits(self, child: Child, beat: dict[str, object], now: float) -> None:
        job_id, started = beat.get("job_id"), beat.get("job_started_at")
        if not isinstance(job_id, int) or not isinstance(started, (int, float)):
            return
        if now - started > self.settings.limits.hard_s:
            self._kill(child, f"ran past the hard limit of {self.settings.limits.hard_s:.0f} s")
            # The attempt is this worker's fault-free failure: retried by the rules.
            flow.fail_attempt(
                self.db, self.app, job_id, None, child.kill_reason or "", None, self.settings.retry
            )
            return
        with self.db.read() as session:
            row = session.execute(
                select(Job.status, Job.finished_at).where(Job.id == job_id)
            ).first()
        if (
            row is not None
            and row.status == JobStatus.CANCELLED.value
            and row.finished_at is not None
            and utcnow() - row.finished_at > timedelta(seconds=CANCEL_GRACE_S)
        ):
            self._kill(child, f"job {job_id} was cancelled and its stage kept running")

    def _kill(self, child: Child, reason: str) -> None:
        if child.process is None or child.process.poll() is not None:
            return
        log.warning("ending %s: %s", child.name, reason)
        child.kill_reason = reason
        child.process.kill()

    def _shutdown_children(self) -> None:
        """Warm shutdown: running jobs finish if they can within the timeout, then kill."""
        running = [c for c in self.children if c.process is not None and c.process.poll() is None]
        for child in running:
            child.kill_reason = "engine stopping"
            assert child.process is not None
            if sys.platform == "win32":
                self.app.control.shutdown(destination=[child.name])
            else:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        for child in self.children:
            child.state, child.process = "stopped", None
        self._publish_state()

    # --- Redis view -------------------------------------------------------------------------

    def _heartbeats(self) -> dict[str, dict[str, object]]:
        if self._redis is None:
            return {}
        names = [c.name for c in self.children if c.role == "worker"]
        try:
            values = self._redis.mget([heartbeat_key(n) for n in names])
        except redis.exceptions.RedisError:
            return {}
        return {n: json.loads(v) for n, v in zip(names, values, strict=True) if v}

    def _publish_state(self) -> None:
        if self._redis is None:
            return
        record = {
            "host": self.host,
            "owner_pid": os.getpid(),
            "workers": [
                {
                    "name": c.name,
                    "pid": c.pid,
                    "state": c.state,
                    "restarts": c.restarts,
                    "note": c.note,
                    "host": self.host,
                }
                for c in self.children
                if c.role == "worker"
            ],
        }
        try:
            self._redis.set(
                f"junmai:supervisor:{self.host}", json.dumps(record), ex=SUPERVISOR_TTL_S
            )
        except redis.exceptions.RedisError as exc:
            log.warning("supervisor state not published: %s", exc)
