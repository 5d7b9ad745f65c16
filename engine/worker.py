"""The worker role: one Celery solo worker process, its heartbeat and its own safeguards.

The heartbeat is written from a thread of its own, because a solo worker's main loop is
blocked while it runs a job: a busy worker must never look dead. The process also ends
itself when its owner is gone (no orphans) and after `recycle_after` jobs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field, fields
from typing import Any

import cv2
import psutil
import redis
from celery import Celery
from celery.signals import task_postrun
from celery.worker import state as worker_state

from engine import broker
from engine.celery_app import QUEUES, create_app
from engine.config import Settings
from engine.db import Database

log = logging.getLogger(__name__)

HEARTBEAT_EVERY_S = 2.0
HEARTBEAT_TTL_S = 10
WORKERS_SET = "junmai:workers"
PAUSED_KEY = "junmai:paused"
STANDBY_QUEUE = "junmai.standby"  # consumed while paused; nothing is ever sent to it


def heartbeat_key(name: str) -> str:
    return f"junmai:worker:{name}"


@dataclass
class Activity:
    """What this worker is doing now; written by the task, read by the heartbeat thread."""

    job_id: int | None = None
    task: str | None = None
    photo: str | None = None
    stage: str | None = None
    job_started_at: float | None = None
    processed: int = 0
    failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    changed: threading.Event = field(default_factory=threading.Event, repr=False)

    def begin(self, job_id: int, task: str, photo: str | None) -> None:
        with self.lock:
            self.job_id, self.task, self.photo = job_id, task, photo
            self.stage, self.job_started_at = "starting", time.time()
        self.changed.set()  # the heartbeat says "busy" now, not at its next beat

    def end(self, ok: bool) -> None:
        with self.lock:
            self.job_id = self.task = self.photo = self.stage = self.job_started_at = None
            if ok:
                self.processed += 1
            else:
                self.failed += 1
        self.changed.set()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                f.name: getattr(self, f.name)
                for f in fields(self)
                if f.name not in ("lock", "changed")
            }


@dataclass
class WorkerContext:
    """Everything a task needs in this process."""

    name: str
    settings: Settings
    db: Database
    app: Celery
    redis: redis.Redis
    activity: Activity


_context: WorkerContext | None = None


def context() -> WorkerContext:
    if _context is None:
        raise RuntimeError("not inside a Junmai worker process")
    return _context


def _heartbeat_loop(ctx: WorkerContext, owner_pid: int | None, stop: threading.Event) -> None:
    process = psutil.Process()
    process.cpu_percent(None)
    host = socket.gethostname()
    started = time.time()
    while not stop.is_set():
        ctx.activity.changed.wait(HEARTBEAT_EVERY_S)
        ctx.activity.changed.clear()
        if owner_pid is not None and not psutil.pid_exists(owner_pid):
            log.warning("owner %s is gone: this worker stops", owner_pid)
            os._exit(3)  # no graceful path is safe without an owner; the job is reclaimed
        activity = ctx.activity.snapshot()
        try:
            paused = bool(ctx.redis.exists(PAUSED_KEY))
            state = "busy" if activity["job_id"] else ("paused" if paused else "idle")
            payload = {
                "name": ctx.name,
                "host": host,
                "pid": os.getpid(),
                "state": state,
                "rss": process.memory_info().rss,
                "cpu_pct": process.cpu_percent(None),
                "started_at": started,
                "ts": time.time(),
                **activity,
            }
            with ctx.redis.pipeline() as pipe:
                pipe.set(heartbeat_key(ctx.name), json.dumps(payload), ex=HEARTBEAT_TTL_S)
                pipe.sadd(WORKERS_SET, ctx.name)
                pipe.execute()
        except redis.exceptions.RedisError as exc:
            log.warning("heartbeat not written: %s", exc)


def _recycle_after(limit: int, activity: Activity) -> None:
    """Solo has no max-tasks-per-child: stop gracefully after `limit` jobs; the supervisor
    starts a fresh process."""

    def maybe_recycle(**_: Any) -> None:
        if activity.processed + activity.failed >= limit:
            worker_state.should_stop = 0  # the consumer loop exits cleanly after this task

    task_postrun.connect(maybe_recycle, weak=False)


def run(settings: Settings, name: str, owner_pid: int | None, paused: bool) -> None:
    """Run one solo worker until it is told to stop (or its owner dies)."""
    global _context
    # One worker is one core's worth of work: parallelism comes from worker processes, and
    # OpenCV's own thread pool in each of them would only fight the others for the cores.
    cv2.setNumThreads(1)
    url = settings.redis_url
    if url is None:
        raise RuntimeError("the worker role needs REDIS_URL from its supervisor")
    app = create_app(url, settings.task_modules)
    db = Database(settings.db_url)
    ctx = WorkerContext(name, settings, db, app, broker.client(url), Activity())
    _context = ctx
    stop = threading.Event()
    threading.Thread(
        target=_heartbeat_loop, args=(ctx, owner_pid, stop), name="heartbeat", daemon=True
    ).start()
    _recycle_after(settings.limits.recycle_after, ctx.activity)
    queues = STANDBY_QUEUE if paused else ",".join(QUEUES)
    try:
        app.worker_main(
            [
                "worker",
                "--pool=solo",
                f"--hostname={name}",
                f"--queues={queues}",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )
    finally:
        stop.set()
        with contextlib.suppress(redis.exceptions.RedisError):
            ctx.redis.delete(heartbeat_key(name))
        db.dispose()
