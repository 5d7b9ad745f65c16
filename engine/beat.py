"""The beat role: Celery beat with the engine's periodic jobs, one per Redis.

Several owners may share one Redis (a studio); a lock key in Redis makes sure only one of
their beats sends the periodic jobs. The others wait and take over if it goes away.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid

import psutil

from engine import broker
from engine.celery_app import DEFAULT, PRIORITY_LOW, create_app, to_kombu_priority
from engine.config import Settings
from engine.models import TaskName

log = logging.getLogger(__name__)

LOCK_KEY = "junmai:beat"
LOCK_TTL_S = 60
RETRY_LOCK_S = 20.0


def schedule() -> dict[str, dict[str, object]]:
    options = {"queue": DEFAULT, "priority": to_kombu_priority(PRIORITY_LOW)}
    return {
        "cleanup-old-results": {
            "task": TaskName.CLEANUP.value,
            "schedule": 3600.0,
            "options": options,
        },
        "update-system-metrics": {
            "task": TaskName.SYSTEM_METRICS.value,
            "schedule": 60.0,
            "options": options,
        },
    }


def run(settings: Settings, owner_pid: int | None) -> None:
    """Wait for the beat lock, keep it fresh, run beat until the owner goes away."""
    assert settings.redis_url is not None
    client = broker.client(settings.redis_url)
    token = f"{os.getpid()}-{uuid.uuid4()}"
    while not client.set(LOCK_KEY, token, nx=True, ex=LOCK_TTL_S):
        _exit_if_orphaned(owner_pid)
        time.sleep(RETRY_LOCK_S)

    def keep_lock() -> None:
        while True:
            time.sleep(LOCK_TTL_S / 3)
            _exit_if_orphaned(owner_pid)
            if client.get(LOCK_KEY) != token.encode():
                log.warning("beat lock lost: this beat stops")
                os._exit(0)
            client.expire(LOCK_KEY, LOCK_TTL_S)

    threading.Thread(target=keep_lock, name="beat-lock", daemon=True).start()
    app = create_app(settings.redis_url)
    app.conf.beat_schedule = schedule()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        app.Beat(schedule=str(settings.data_dir / "beat-schedule"), loglevel="INFO").run()
    finally:
        if client.get(LOCK_KEY) == token.encode():
            client.delete(LOCK_KEY)


def _exit_if_orphaned(owner_pid: int | None) -> None:
    if owner_pid is not None and not psutil.pid_exists(owner_pid):
        os._exit(0)
