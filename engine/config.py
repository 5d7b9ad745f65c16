"""Settings: every environment variable the engine reads, its default and its validation.

An invalid value stops start-up with a ConfigError naming the variable and the accepted form.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import quote

import platformdirs

from engine.errors import ConfigError

APP_NAME = "Junmai"
DEFAULT_WORKERS = 3
# Every variable that chooses the Redis (see _redis); a choice made elsewhere clears them all.
REDIS_VARIABLES = (
    "REDIS_URL",
    "REDIS_HOST",
    "REDIS_PORT",
    "REDIS_DB",
    "REDIS_PASSWORD",
    "JUNMAI_REDIS",
)


class RedisMode(StrEnum):
    """Which Redis the engine uses."""

    PRIVATE = "private"  # a redis-server the engine starts itself (the default)
    AUTO = "auto"  # whatever answers on localhost:6379, else private
    EXTERNAL = "external"  # REDIS_URL (or REDIS_HOST...) names a Redis or Memurai


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of a failing job: attempt n waits about base·2^(n-1)..base·2^n seconds, capped."""

    max_retries: int = 3
    base_s: float = 2.0
    cap_s: float = 600.0


@dataclass(frozen=True)
class Limits:
    """What the supervisor enforces on solo workers (Celery's own limits need prefork)."""

    soft_s: float = 300.0
    hard_s: float = 600.0
    recycle_after: int = 100


@dataclass(frozen=True)
class Outputs:
    """What a shoot's outputs look like."""

    export_dir: Path | None = None  # None: "Junmai Exports" inside each shoot's folder
    export_long_edge: int | None = None  # None: full size
    export_quality: int = 92
    preset: str | None = None  # None: chosen by each photo's scene
    preset_amount: int = 100  # % of the preset applied, from neutral


@dataclass(frozen=True)
class Settings:
    """Everything configurable, resolved once from the environment."""

    data_dir: Path
    log_dir: Path
    db_url: str
    redis_mode: RedisMode
    redis_url: str | None
    workers: int
    retry: RetryPolicy = RetryPolicy()
    limits: Limits = Limits()
    retention_days: float = 30.0
    group_window_s: float = 30.0
    embed_xmp: bool = False
    outputs: Outputs = Outputs()
    task_modules: tuple[str, ...] = ()

    def to_env(self, redis_url: str) -> dict[str, str]:
        """These settings as the environment of a child process (worker, beat), which
        reads them back with load_settings: children run with exactly the owner's settings."""
        return {
            "JUNMAI_DATA_DIR": str(self.data_dir),
            "JUNMAI_DB_URL": self.db_url,
            "REDIS_URL": redis_url,
            "JUNMAI_WORKERS": str(self.workers),
            "JUNMAI_MAX_RETRIES": str(self.retry.max_retries),
            "JUNMAI_RETRY_BASE_S": repr(self.retry.base_s),
            "JUNMAI_RETRY_CAP_S": repr(self.retry.cap_s),
            "JUNMAI_SOFT_LIMIT_S": repr(self.limits.soft_s),
            "JUNMAI_HARD_LIMIT_S": repr(self.limits.hard_s),
            "JUNMAI_RECYCLE_AFTER": str(self.limits.recycle_after),
            "JUNMAI_RETENTION_DAYS": repr(self.retention_days),
            "JUNMAI_GROUP_WINDOW_S": repr(self.group_window_s),
            "JUNMAI_EMBED_XMP": "1" if self.embed_xmp else "0",
            "JUNMAI_EXPORT_DIR": str(self.outputs.export_dir or ""),
            "JUNMAI_EXPORT_LONG_EDGE": str(self.outputs.export_long_edge or 0),
            "JUNMAI_EXPORT_QUALITY": str(self.outputs.export_quality),
            "JUNMAI_PRESET": self.outputs.preset or "",
            "JUNMAI_PRESET_AMOUNT": str(self.outputs.preset_amount),
            "JUNMAI_TASK_MODULES": ",".join(self.task_modules),
        }

    @property
    def redis_dir(self) -> Path:
        return self.data_dir / "redis"

    @property
    def thumbnails_dir(self) -> Path:
        return self.data_dir / "thumbnails"


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name}={raw!r} is not valid: use a whole number of 1 or more")
    return value


def _positive_float(
    env: Mapping[str, str], name: str, default: float, unit: str = "seconds"
) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ConfigError(f"{name}={raw!r} is not valid: use a number of {unit} above 0")
    return value


def _int_in_range(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigError(f"{name}={raw!r} is not valid: use a whole number from {low} to {high}")
    return int(raw)


def _outputs(env: Mapping[str, str]) -> Outputs:
    export_dir = env.get("JUNMAI_EXPORT_DIR", "").strip()
    long_edge = _int_in_range(env, "JUNMAI_EXPORT_LONG_EDGE", 0, 0, 100_000)
    return Outputs(
        export_dir=Path(export_dir).expanduser() if export_dir else None,
        export_long_edge=long_edge or None,
        export_quality=_int_in_range(env, "JUNMAI_EXPORT_QUALITY", 92, 1, 100),
        preset=env.get("JUNMAI_PRESET", "").strip() or None,
        preset_amount=_int_in_range(env, "JUNMAI_PRESET_AMOUNT", 100, 0, 100),
    )


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}={raw!r} is not valid: use 1 or 0")


def _redis_url_from_parts(env: Mapping[str, str]) -> str | None:
    """The seed's REDIS_HOST / REDIS_PORT / REDIS_DB / REDIS_PASSWORD, as one URL."""
    host = env.get("REDIS_HOST", "").strip()
    if not host:
        return None
    port = env.get("REDIS_PORT", "6379").strip() or "6379"
    db = env.get("REDIS_DB", "0").strip() or "0"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"REDIS_PORT={port!r} is not valid: use a port number 1-65535")
    if not db.isdigit():
        raise ConfigError(f"REDIS_DB={db!r} is not valid: use a database number such as 0")
    password = env.get("REDIS_PASSWORD", "")
    auth = f":{quote(password, safe='')}@" if password else ""
    return f"redis://{auth}{host}:{port}/{db}"


def _redis(env: Mapping[str, str]) -> tuple[RedisMode, str | None]:
    url = env.get("REDIS_URL", "").strip() or _redis_url_from_parts(env)
    if url:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(
                f"REDIS_URL={url!r} is not valid: use redis://[:password@]host:port/db"
            )
        return RedisMode.EXTERNAL, url
    raw = env.get("JUNMAI_REDIS", "").strip().lower() or RedisMode.PRIVATE.value
    if raw not in (RedisMode.PRIVATE, RedisMode.AUTO):
        raise ConfigError(
            f"JUNMAI_REDIS={raw!r} is not valid: use 'private' (the default) or 'auto'; "
            "for an external Redis or Memurai set REDIS_URL"
        )
    return RedisMode(raw), None


def _db_url(env: Mapping[str, str], data_dir: Path) -> str:
    url = env.get("JUNMAI_DB_URL", "").strip()
    if not url:
        return f"sqlite:///{(data_dir / 'junmai.db').as_posix()}"
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; SQLAlchemy's bare postgresql:// means psycopg2.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith(("sqlite:///", "postgresql+psycopg://")):
        raise ConfigError(
            f"JUNMAI_DB_URL={url!r} is not valid: use sqlite:///PATH or "
            "postgresql://user@host:port/database"
        )
    return url


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from the environment (os.environ by default)."""
    env = os.environ if env is None else env
    data_raw = env.get("JUNMAI_DATA_DIR", "").strip()
    data_dir = Path(data_raw).expanduser() if data_raw else default_data_dir()
    log_dir = data_dir / "logs" if data_raw else Path(platformdirs.user_log_dir(APP_NAME, False))
    redis_mode, redis_url = _redis(env)
    cores = os.cpu_count() or 1
    workers = min(_positive_int(env, "JUNMAI_WORKERS", DEFAULT_WORKERS), cores)
    modules = tuple(m.strip() for m in env.get("JUNMAI_TASK_MODULES", "").split(",") if m.strip())
    return Settings(
        data_dir=data_dir.resolve(),
        log_dir=log_dir,
        db_url=_db_url(env, data_dir.resolve()),
        redis_mode=redis_mode,
        redis_url=redis_url,
        workers=workers,
        retry=RetryPolicy(
            max_retries=_positive_int(env, "JUNMAI_MAX_RETRIES", RetryPolicy.max_retries),
            base_s=_positive_float(env, "JUNMAI_RETRY_BASE_S", RetryPolicy.base_s),
            cap_s=_positive_float(env, "JUNMAI_RETRY_CAP_S", RetryPolicy.cap_s),
        ),
        limits=Limits(
            soft_s=_positive_float(env, "JUNMAI_SOFT_LIMIT_S", Limits.soft_s),
            hard_s=_positive_float(env, "JUNMAI_HARD_LIMIT_S", Limits.hard_s),
            recycle_after=_positive_int(env, "JUNMAI_RECYCLE_AFTER", Limits.recycle_after),
        ),
        retention_days=_positive_float(env, "JUNMAI_RETENTION_DAYS", 30.0, "days"),
        group_window_s=_positive_float(env, "JUNMAI_GROUP_WINDOW_S", 30.0),
        embed_xmp=_flag(env, "JUNMAI_EMBED_XMP"),
        outputs=_outputs(env),
        task_modules=modules,
    )


def default_data_dir() -> Path:
    """Per-user, per-machine data: %LOCALAPPDATA%\\Junmai on Windows (never roaming)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False, roaming=False))
