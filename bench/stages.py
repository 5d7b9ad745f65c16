"""Per-stage cost of the photo analysis, and of grouping a large session.

Runs every stage on each full-size camera JPEG of the shared samples (category
camera-jpeg, larger than 1 MB in manifest.tsv), REPEAT times, and prints the median
milliseconds per photo of each stage and the analysis/decode ratio; then groups
100,000 synthetic photos (bursts of 1–7 near-identical hashes, 5 % without capture time).

    .venv/bin/python bench/stages.py [--samples DIR] [--repeat N] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2

from engine.analysis.decode import decode
from engine.analysis.exif import read_exif
from engine.analysis.faces import detect_faces
from engine.analysis.grouping import GroupItem, group_photos
from engine.analysis.hashing import is_flat, phash
from engine.analysis.presets import blend, bundled_presets
from engine.analysis.quality import (
    assess_exposure,
    assess_focus,
    horizon_tilt,
    subject_and_background,
)
from engine.analysis.xmp import XmpMetadata, write_sidecar

DEFAULT_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
ANALYSIS = ("faces", "focus", "exposure", "composition", "hash")
PRESET = next(p for p in bundled_presets() if p.name == "Junmai Portrait")


def full_size_jpegs(samples: Path) -> list[Path]:
    rows = (samples / "manifest.tsv").read_text(encoding="utf-8").splitlines()[1:]
    fields = [row.split("\t") for row in rows]
    return [samples / f[0] for f in fields if f[1] == "camera-jpeg" and int(f[2]) > 1_000_000]


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, (time.perf_counter() - start) * 1000


def stage_times(path: Path, out: Path) -> dict[str, float]:
    """Milliseconds of each stage for one photo (`out`: a folder for the XMP sidecar)."""
    decoded, t_decode = _timed(lambda: decode(path))
    _, t_exif = _timed(lambda: read_exif(path))
    gray, t_gray = _timed(lambda: cv2.cvtColor(decoded.rgb, cv2.COLOR_RGB2GRAY))
    faces, t_faces = _timed(lambda: detect_faces(gray))
    hist, t_hist = _timed(lambda: cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel())
    _, t_focus = _timed(lambda: assess_focus(gray, faces, hist))
    _, t_exposure = _timed(lambda: assess_exposure(gray, hist))
    _, t_composition = _timed(lambda: (horizon_tilt(gray), subject_and_background(gray, faces)))
    _, t_hash = _timed(lambda: (phash(decoded.rgb), is_flat(decoded.rgb)))
    meta = XmpMetadata(rating=4, label=None, crs=blend(PRESET, 100))
    _, t_xmp = _timed(lambda: write_sidecar(out / path.name, meta))
    return {
        "decode": t_decode,
        "exif": t_exif,
        "faces": t_gray + t_faces,
        "focus": t_focus,
        "exposure": t_hist + t_exposure,
        "composition": t_composition,
        "hash": t_hash,
        "xmp": t_xmp,
    }


def synthetic_session(count: int, seed: int = 1) -> list[GroupItem]:
    rng = random.Random(seed)
    items: list[GroupItem] = []
    taken = 1.6e9
    while len(items) < count:
        base, taken = rng.getrandbits(64), taken + rng.expovariate(1 / 20)
        for frame in range(rng.randint(1, 7)):
            bits = rng.sample(range(64), rng.randint(0, 5))
            value = base ^ sum(1 << b for b in bits)
            when = None if rng.random() < 0.05 else taken + frame * 0.3
            items.append(GroupItem(len(items), when, value, score=rng.random() * 4 + 1))
    return items[:count]


def run(samples: Path, repeat: int) -> dict[str, Any]:
    files = full_size_jpegs(samples)
    per_stage: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="junmai-stages-") as out:
        for _ in range(repeat):
            for path in files:
                for stage, ms in stage_times(path, Path(out)).items():
                    per_stage.setdefault(stage, []).append(ms)
    medians = {stage: statistics.median(values) for stage, values in per_stage.items()}
    analysis = sum(medians[stage] for stage in ANALYSIS)
    items = synthetic_session(100_000)
    groups, t_group = _timed(lambda: group_photos(items))
    return {
        "photos": len(files),
        "repeat": repeat,
        "median_ms": medians,
        "analysis_ms": analysis,
        "analysis_to_decode": analysis / medians["decode"],
        "grouping_100k_ms": t_group,
        "groups_100k": len({a.group_id for a in groups.values() if a.group_id is not None}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=DEFAULT_SAMPLES)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    result = run(args.samples, args.repeat)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['photos']} full-size sample JPEGs × {result['repeat']} runs, median per photo")
    print(f"{'stage':<12} {'ms':>8}")
    for stage, ms in result["median_ms"].items():
        print(f"{stage:<12} {ms:8.1f}")
    print(f"{'analysis':<12} {result['analysis_ms']:8.1f}   ({' + '.join(ANALYSIS)})")
    print(f"analysis / decode = {result['analysis_to_decode']:.2f}")
    print(
        f"grouping 100,000 synthetic photos: {result['grouping_100k_ms']:.0f} ms "
        f"({result['groups_100k']} groups)"
    )


if __name__ == "__main__":
    main()
