"""Perceptual hash and flat-frame test."""

from __future__ import annotations

import numpy as np
import pytest

from engine.analysis.decode import decode
from engine.analysis.hashing import hamming, is_flat, phash

ORIENT = "exif-orientation-examples"


def _flat_frames() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    xx, yy = np.meshgrid(np.linspace(-1, 1, 1024), np.linspace(-1, 1, 768))
    vignette = (1 - 0.35 * (xx**2 + yy**2))[..., None]
    noise = rng.normal(0, 4, (768, 1024, 3))
    sky = np.array([90, 140, 220]) * (1 - 0.4 * np.linspace(0, 1, 768)[:, None, None])
    frames = {
        "black lens cap": 4 + noise * 0.7,
        "red lens cap": np.array([200, 30, 30]) * vignette + noise,
        "grey card": 150 * vignette + noise,
        "white wall": np.full((768, 1024, 3), 235.0) + noise,
        "blue sky": sky + noise,
    }
    return {k: np.clip(v, 0, 255).astype(np.uint8) for k, v in frames.items()}


def test_hash_is_a_64_bit_int(samples_dir):
    value = phash(decode(samples_dir / f"{ORIENT}/Landscape_1.jpg").rgb)
    assert isinstance(value, int)
    assert 0 <= value < 2**64
    assert 20 < value.bit_count() < 44


def test_every_orientation_hashes_like_the_upright_original(samples_dir):
    upright = phash(decode(samples_dir / f"{ORIENT}/Landscape_1.jpg").rgb)
    for n in range(9):
        rgb = decode(samples_dir / f"{ORIENT}/Landscape_{n}.jpg").rgb
        assert hamming(phash(rgb), upright) <= 2, n


def test_copy_without_exif_hashes_identically(samples_dir):
    a = phash(decode(samples_dir / "exifr-fixtures/test/fixtures/img_1771.jpg").rgb)
    b = phash(decode(samples_dir / "exifr-fixtures/test/fixtures/img_1771_no_exif.jpg").rgb)
    assert a == b


def test_unrelated_photos_are_far_apart(samples_dir):
    a = phash(decode(samples_dir / "exiv2-testdata/test/data/FurnaceCreekInn.jpg").rgb)
    b = phash(decode(samples_dir / "exif-samples/jpg/hdr/iphone_hdr_NO.jpg").rgb)
    assert hamming(a, b) > 20


def test_hamming_counts_differing_bits():
    assert hamming(0, 0) == 0
    assert hamming(0b1011, 0b0001) == 2
    assert hamming(0, 2**64 - 1) == 64


@pytest.mark.parametrize("name", list(_flat_frames()))
def test_uniform_frames_are_flat(name):
    assert is_flat(_flat_frames()[name])


@pytest.mark.parametrize(
    "relative",
    [
        "digikam-testdata/core/tests/imgqsort/data/test.jpg",
        "digikam-testdata/core/tests/imgqsort/data/test_underexposed_2.jpg",
        "metadata-extractor-images/jpg/Canon PowerShot S330.jpg",
        "exif-samples/jpg/hdr/canon_hdr_NO.jpg",
    ],
)
def test_real_photos_are_not_flat(samples_dir, relative):
    assert not is_flat(decode(samples_dir / relative).rgb)
