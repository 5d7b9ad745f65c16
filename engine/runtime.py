"""One engine per data dir: the owner (this process, when it starts the engine) holds the
lock and runs the Redis and the workers; every other window or CLI call is a client that
finds the owner through the state file.

The state file (engine.json, readable by this user only) holds the owner's pid, the Redis
URL with its password, and when it started. The lock is an OS file lock: it is released by
the OS if the owner crashes, so a stale state file never blocks a new owner.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from dataclasses import asdict, dataclass

import filelock
import psutil
import redis

from engine import broker, flow, jobs
from engine.broker import PrivateRedis, RedisEndpoint
from engine.celery_app import QUEUES, create_app, priority_lists
from engine.config import Settings
from engine.db import Database
from engine.errors import BrokerError, EngineNotRunning, JunmaiError
from engine.fsutil import atomic_write_bytes
from engine.manager import PAUSED_FLAG, JobQueueManager
from engine.models import EngineFlag, Job, JobStatus
from engine.supervisor import STOP_REQUEST_KEY, Supervisor
from engine.worker import PAUSED_KEY

log = logging.getLogger(__name__)

STATE_FILE = "engine.json"
LOCK_FILE = "engine.lock"
UNACKED_KEY = "unacked"  # kombu's hash of delivered, not yet acknowledged messages
INTERRUPTED = "interrupted: the engine stopped while this job ran"


class EngineAlreadyRunning(JunmaiError):
    """Another process owns the engine of this data dir."""


@dataclass(frozen=True)
class EngineState:
    """What a client needs to know about the owner."""

    owner_pid: int
    owner_started: float  # the owner process's create time: tells a reused pid apart
    redis_url: str
    redis_kind: str
    redis_pid: int | None
    host: str
    started_at: float

    @property
    def endpoint(self) -> RedisEndpoint:
        return RedisEndpoint(self.redis_url, self.redis_kind, self.redis_pid)


def read_state(settings: Settings) -> EngineState | None:
    """The running owner of this data dir, or None (no state file, or its owner is gone)."""
    try:
        state = EngineState(**json.loads((settings.data_dir / STATE_FILE).read_text("utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    try:
        alive = psutil.Process(state.owner_pid).create_time() == state.owner_started
    except psutil.Error:
        alive = False
    return state if alive else None


def connect(settings: Settings) -> JobQueueManager:
    """A client of the running engine; EngineNotRunning says plainly when there is none."""
    state = read_state(settings)
    if state is None:
        raise EngineNotRunning(
            f"No Junmai engine is running for {settings.data_dir}. Open the Junmai window or "
            "run `junmai-engine start` (or use `process --wait`, which starts one for the job)."
        )
    broker.wait_until_ready(state.redis_url, timeout=5.0)
    return JobQueueManager(settings, state.redis_url)


def request_stop(settings: Settings) -> EngineState:
    """Ask the owner to stop (through its Redis: works across processes and platforms)."""
    state = read_state(settings)
    if state is None:
        raise EngineNotRunning(f"No Junmai engine is running for {settings.data_dir}.")
    broker.client(state.redis_url).set(STOP_REQUEST_KEY, "1", ex=60)
    return state


class Engine:
    """The owner: lock, database migration, Redis, reconciliation, supervisor.

    Everything the engine starts is started from its own long-lived thread, so a child dies
    with the owner even if the thread that called `start` ends (Linux parent-death signal).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.db_url)
        self._lock = filelock.FileLock(str(settings.data_dir / LOCK_FILE))
        self._private: PrivateRedis | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.endpoint: RedisEndpoint | None = None
        self.supervisor: Supervisor | None = None
        self.manager: JobQueueManager | None = None

    def start(self, timeout: float = 90.0) -> JobQueueManager:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            raise EngineAlreadyRunning(
                f"another Junmai process already runs the engine for {self.settings.data_dir}"
            ) from None
        try:
            self.db.migrate()
            self._thread = threading.Thread(target=self._run, name="junmai-engine", daemon=True)
            self._thread.start()
            if not self._ready.wait(timeout):
                raise BrokerError("the engine did not start in time")
            if self._error is not None:
                raise self._error
        except BaseException:
            self.stop()
            raise
        assert self.manager is not None
        return self.manager

    def _run(self) -> None:
        try:
            endpoint = broker.resolve_endpoint(self.settings)
            if endpoint is None:
                self._private = PrivateRedis(self.settings.redis_dir)
                endpoint = self._private.start()
            self.endpoint = endpoint
            client = broker.client(endpoint.url)
            self.manager = JobQueueManager(self.settings, endpoint.url, self.db)
            reconcile(self.db, self.manager, client)
            self._write_state(endpoint)
            self.supervisor = Supervisor(self.settings, self.db, create_app(endpoint.url))
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self.supervisor.run(endpoint, client)
        finally:
            if self._private is not None:
                self._private.stop(endpoint.url)

    def _write_state(self, endpoint: RedisEndpoint) -> None:
        me = psutil.Process()
        state = EngineState(
            owner_pid=me.pid,
            owner_started=me.create_time(),
            redis_url=endpoint.url,
            redis_kind=endpoint.kind,
            redis_pid=endpoint.pid,
            host=socket.gethostname(),
            started_at=time.time(),
        )
        path = self.settings.data_dir / STATE_FILE
        atomic_write_bytes(path, json.dumps(asdict(state)).encode("utf-8"))
        os.chmod(path, 0o600)

    def wait(self) -> None:
        """Block until the engine stops (by `stop`, or a client's stop request)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        """Workers finish or are stopped, Redis shuts down (queued jobs stay in its AOF and
        in the database), the state file goes, the lock is released."""
        if self.supervisor is not None:
            self.supervisor.stop()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        elif self._private is not None and self.endpoint is not None:
            self._private.stop(self.endpoint.url)
        if self.manager is not None:
            self.manager.close()
            self.manager = None
        (self.settings.data_dir / STATE_FILE).unlink(missing_ok=True)
        self.db.dispose()
        if self._lock.is_locked:
            self._lock.release()


def reconcile(db: Database, manager: JobQueueManager, client: redis.Redis) -> None:
    """Make Redis agree with the database before any worker starts.

    Jobs left processing by this machine's workers (the engine stopped or crashed under
    them) count as a failed attempt: retried or failed by the usual rules. Jobs queued in
    the database but absent from Redis (AOF lost, a purge by another tool) are sent again.
    The paused flag is copied from the database.
    """
    host = socket.gethostname()
    for job_id, task_id, _pid in jobs.processing_on_host(db, host):
        flow.fail_attempt(
            db, manager.app, job_id, task_id, INTERRUPTED, None, manager.settings.retry
        )
    in_redis = _task_ids_in_redis(client)
    with db.write() as session:
        for job in session.query(Job).filter(Job.status == JobStatus.QUEUED.value):
            if job.celery_task_id not in in_redis:
                job.status, job.celery_task_id = JobStatus.PENDING.value, None
        flag = session.get(EngineFlag, PAUSED_FLAG)
    if flag is not None and flag.value == "1":
        client.set(PAUSED_KEY, "1")
    else:
        client.delete(PAUSED_KEY)
    jobs.publish_due(db, manager.app)


def _task_ids_in_redis(client: redis.Redis) -> set[str]:
    """Every Celery task id held in Redis: waiting in a queue or delivered but unacked."""
    raw: list[bytes] = []
    with client.pipeline(transaction=False) as pipe:
        for queue in QUEUES:
            for name in priority_lists(queue):
                pipe.lrange(name, 0, -1)
        pipe.hvals(UNACKED_KEY)
        for reply in pipe.execute():
            raw.extend(reply)
    ids: set[str] = set()
    for item in raw:
        try:
            message = json.loads(item)
            if isinstance(message, list):  # unacked entries are [message, exchange, key]
                message = message[0]
            ids.add(message["headers"]["id"])
        except (ValueError, KeyError, TypeError, IndexError):
            continue
    return ids
