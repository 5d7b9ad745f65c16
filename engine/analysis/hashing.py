"""Perceptual hash of the upright analysis image, and the flat-frame test.

`phash`: the standard 64-bit DCT hash. The grey image is reduced to 32×32 (area
averaging), transformed with a 2-D DCT, and the 8×8 lowest frequencies after the DC term
(rows and columns 1–8) are compared with their median: bit = coefficient > median, first
coefficient in the most significant bit. Hash the image after orientation is applied, so
a rotated copy hashes like the original. OpenCV's img_hash module is contrib-only, hence
our own.

`is_flat`: a nearly uniform frame (lens cap, blank sky, grey card, a wall). Its hash is
set by noise and vignetting and collides across colours, so such frames must never group
by hash alone. Measured on the frame reduced to 64×64 (area averaging, which also
averages sensor noise away): flat when the grey standard deviation is under FLAT_STD
(4 levels of 255), or when the 95th percentile of the absolute Laplacian is under
FLAT_DETAIL (6 levels): no edges, only noise and smooth gradients (blue sky, vignetting
on a lens cap or a grey card; such synthetic frames measure 1–5.5). The samples' real
photos measure 12 and up, except canon-dslr.jpg, a nearly black frame (4.4), which is
flat.
"""

from __future__ import annotations

import cv2
import numpy as np

FLAT_STD = 4.0
FLAT_DETAIL = 6.0


def _gray(rgb: np.ndarray, size: int) -> np.ndarray:
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    return cv2.resize(gray.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)


def phash(rgb: np.ndarray) -> int:
    """64-bit perceptual hash of an upright RGB (or grey) image, as a Python int."""
    dct = cv2.dct(_gray(rgb, 32))[1:9, 1:9]
    bits = (dct > np.median(dct)).ravel()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two hashes."""
    return (a ^ b).bit_count()


def is_flat(rgb: np.ndarray) -> bool:
    """True for a nearly uniform frame, whose perceptual hash means nothing."""
    small = _gray(rgb, 64)
    if float(small.std()) < FLAT_STD:
        return True
    detail = np.abs(cv2.Laplacian(small, cv2.CV_32F))
    return float(np.percentile(detail, 95)) < FLAT_DETAIL
