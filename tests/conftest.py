"""Shared fixtures. Engine tests start the product's own private Redis and real Celery
worker processes on a temporary data dir; they never touch the machine's shared Redis."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.config import REDIS_VARIABLES, Settings, load_settings
from engine.manager import JobQueueManager
from engine.runtime import Engine

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO.parent / "shared" / "samples"

# Children inherit the environment: make sure nothing points them at a shared Redis, and
# that they can import this package's test task module.
for _name in REDIS_VARIABLES:
    os.environ.pop(_name, None)
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    assert SAMPLES.is_dir(), f"the shared samples are missing: {SAMPLES}"
    return SAMPLES


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a private engine in tmp_path; keyword arguments are env overrides."""

    def make(**env: str) -> Settings:
        base = {
            "JUNMAI_DATA_DIR": str(tmp_path / "data"),
            "JUNMAI_WORKERS": "2",
            "JUNMAI_TASK_MODULES": "tests.jobs_for_tests",
            "JUNMAI_RETRY_BASE_S": "0.25",
        }
        return load_settings({**base, **env})

    return make


@pytest.fixture
def start_engine() -> Iterator[Callable[[Settings], tuple[Engine, JobQueueManager]]]:
    """Start (and at the end stop) real engines."""
    engines: list[Engine] = []

    def start(settings: Settings) -> tuple[Engine, JobQueueManager]:
        engine = Engine(settings)
        manager = engine.start()
        engines.append(engine)
        return engine, manager

    yield start
    for engine in reversed(engines):
        engine.stop()


def wait_until(
    predicate: Callable[[], object], timeout: float = 60.0, every: float = 0.1
) -> object:
    """Poll until predicate() is truthy; fail with its last value after timeout."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last value {value!r})")
        time.sleep(every)
        value = predicate()
    return value
