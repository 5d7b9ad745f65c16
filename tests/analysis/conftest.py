"""Fixtures for the analysis tests, on the shared real-camera samples.

`samples_dir` is defined here too (not only in tests/conftest.py) so these pure-function
tests also run on their own: `pytest --confcutdir=tests/analysis tests/analysis`."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "samples"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    assert (SAMPLES / "manifest.tsv").is_file(), f"the shared samples are missing: {SAMPLES}"
    return SAMPLES.resolve()


@pytest.fixture(scope="session")
def manifest(samples_dir: Path) -> list[tuple[Path, str]]:
    """(path, category) of every sample file listed in manifest.tsv."""
    rows = (samples_dir / "manifest.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [(samples_dir / r.split("\t")[0], r.split("\t")[1]) for r in rows]


@pytest.fixture
def copy_sample(samples_dir: Path, tmp_path: Path) -> Callable[..., Path]:
    """Copy a sample into tmp_path, optionally under a new (relative) name; returns the copy."""

    def copy(relative: str, name: str | None = None) -> Path:
        source = samples_dir / relative
        dest = tmp_path / (name or source.name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        return dest

    return copy
