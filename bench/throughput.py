"""Throughput of the real queue against the decode floor, measured in one run.

Builds a shoot from the full-size sample JPEGs (each copy re-encoded with a small change
and its own capture time, so nothing can be cached by content), then prints:

  (a) the decode floor: the same files decoded at analysis size by as many processes as
      the engine has workers;
  (b) end to end: photos analysed per second through the real queue (private Redis, real
      worker processes, SQLite), from submission until every photo is analysed;
  (c) b / a;
  (d) seconds to submit a 10,000-photo shoot (scan, database rows, publishing).

Usage: python bench/throughput.py [--photos N] [--workers N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image, ImageEnhance

from engine.analysis.decode import decode
from engine.config import load_settings
from engine.runtime import Engine

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
EXIF_DATETIME_ORIGINAL = 0x9003
EXIF_IFD = 0x8769


def full_size_samples() -> list[Path]:
    rows = (SAMPLES / "manifest.tsv").read_text().splitlines()[1:]
    paths = [SAMPLES / r.split("\t")[0] for r in rows if r.split("\t")[1] == "camera-jpeg"]
    return [p for p in paths if p.stat().st_size > 1_000_000]


def build_shoot(folder: Path, count: int) -> list[Path]:
    """`count` perturbed copies of the full-size samples, one second apart."""
    sources = full_size_samples()
    start = datetime(2026, 11, 30, 14, 0, 0)
    made = []
    for i in range(count):
        with Image.open(sources[i % len(sources)]) as image:
            exif = image.getexif()
            exif.get_ifd(EXIF_IFD)[EXIF_DATETIME_ORIGINAL] = (
                start + timedelta(seconds=i)
            ).strftime("%Y:%m:%d %H:%M:%S")
            changed = ImageEnhance.Brightness(image.convert("RGB")).enhance(1 + (i % 7) / 100)
            path = folder / f"IMG_{i:05d}.jpg"
            changed.save(path, quality=90, exif=exif)
        made.append(path)
    return made


def decode_floor(paths: list[Path], workers: int) -> float:
    """Photos per second for decoding alone, in `workers` processes."""
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(decode, paths[:workers]))  # start the processes before timing
        began = time.perf_counter()
        list(pool.map(decode, paths, chunksize=4))
        return len(paths) / (time.perf_counter() - began)


def end_to_end(folder: Path, data_dir: Path, workers: int) -> float:
    """Photos analysed per second through the real queue."""
    settings = load_settings({"JUNMAI_DATA_DIR": str(data_dir), "JUNMAI_WORKERS": str(workers)})
    engine = Engine(settings)
    manager = engine.start()
    try:
        while sum(1 for w in manager.get_worker_stats() if w.state == "idle") < workers:
            time.sleep(0.2)
        began = time.perf_counter()
        result = manager.submit_session_processing(folder)
        while True:
            info = manager.session_info(result.session_id)
            if info.settled == info.total:
                break
            time.sleep(0.25)  # a light poll: the workers run below normal priority
        elapsed = time.perf_counter() - began
        assert info.completed == info.total, (
            f"{info.total - info.completed} photos did not complete"
        )
        return info.total / elapsed
    finally:
        engine.stop()


def submit_10k(root: Path, data_dir: Path) -> float:
    """Seconds to submit a 10,000-photo shoot while the queue is paused (nothing runs)."""
    folder = root / "ten-thousand"
    folder.mkdir()
    tiny = root / "tiny.jpg"
    Image.new("RGB", (8, 8), "grey").save(tiny)
    for i in range(10_000):
        os.link(tiny, folder / f"IMG_{i:05d}.jpg")
    settings = load_settings({"JUNMAI_DATA_DIR": str(data_dir), "JUNMAI_WORKERS": "1"})
    engine = Engine(settings)
    manager = engine.start()
    try:
        manager.pause_queue()
        began = time.perf_counter()
        result = manager.submit_session_processing(folder)
        elapsed = time.perf_counter() - began
        assert result.new == 10_000
        assert manager.get_queue_stats().total_depth == 10_000
        manager.purge_queue()
        manager.resume_queue()
        return elapsed
    finally:
        engine.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=120)
    parser.add_argument("--workers", type=int, default=min(3, os.cpu_count() or 1))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="junmai-bench-") as tmp:
        root = Path(tmp)
        shoot = root / "shoot"
        shoot.mkdir()
        paths = build_shoot(shoot, args.photos)
        floor = decode_floor(paths, args.workers)
        e2e = end_to_end(shoot, root / "data-e2e", args.workers)
        submit = submit_10k(root, root / "data-submit")
    figures = {
        "floor_photos_per_s": round(floor, 2),
        "end_to_end_photos_per_s": round(e2e, 2),
        "ratio": round(e2e / floor, 3),
        "submit_10k_s": round(submit, 3),
        "workers": args.workers,
        "photos": args.photos,
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"shoot: {args.photos} perturbed copies of {len(full_size_samples())} full-size sample JPEGs"
        )
        print(f"(a) decode floor      {floor:8.2f} photos/s  ({args.workers} processes)")
        print(f"(b) end to end        {e2e:8.2f} photos/s  ({args.workers} workers, real queue)")
        print(f"(c) b / a             {e2e / floor:8.3f}     (target >= 0.5)")
        print(f"(d) submit 10,000     {submit:8.3f} s        (target <= 2 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
