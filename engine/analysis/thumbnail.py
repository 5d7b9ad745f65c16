"""Small JPEG thumbnails of the analysis pixels, for the window's lists and grids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from engine.fsutil import atomic_path


def write_thumbnail(rgb: np.ndarray, dest: Path, long_edge: int = 320) -> Path:
    """Write `rgb` (H×W×3 uint8, upright) as a JPEG with its long edge at most `long_edge`.

    The write is atomic but not fsynced: a thumbnail lost to a power cut is made again.
    Returns `dest`.
    """
    image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    # reducing_gap=1: box-reduce by the whole factor first, then a short LANCZOS step (the
    # analysis image is ~3x the thumbnail: this is most of the cost otherwise).
    image.thumbnail((long_edge, long_edge), Image.Resampling.LANCZOS, reducing_gap=1.0)
    dest = Path(dest)
    with atomic_path(dest, durable=False) as tmp:
        image.save(tmp, format="JPEG", quality=85)
    return dest
