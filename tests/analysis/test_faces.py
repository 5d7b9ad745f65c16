"""Face boxes and eyes on the samples' portraits, group photos and landscapes."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.analysis import faces
from engine.analysis.decode import decode
from engine.analysis.faces import Face, detect_faces

JPG = "metadata-extractor-images/jpg"


def _faces(samples_dir: Path, relative: str) -> tuple[Face, ...]:
    rgb = decode(samples_dir / relative).rgb
    return detect_faces(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))


def test_portrait_finds_the_frontal_face_with_open_eyes(samples_dir):
    # Marie Curie faces the camera; Pierre, in profile, is not a frontal face.
    found = _faces(samples_dir, "immich-test-assets/metadata/faces/portrait.jpg")
    assert len(found) == 1
    x, y, w, _ = found[0].box
    assert 230 < x < 300 and 130 < y < 200 and 90 < w < 140
    assert found[0].eyes_open is True
    assert not found[0].eyes_closed


def test_rotated_portrait_finds_the_same_face_once_upright(samples_dir):
    found = _faces(samples_dir, "immich-test-assets/metadata/faces/portrait-orientation-6.jpg")
    assert len(found) == 1
    assert found[0].eyes_open is True


def test_studio_portrait_has_one_face_with_open_eyes(samples_dir):
    found = _faces(samples_dir, f"{JPG}/Canon EOS 7D.jpg")
    assert len(found) == 1
    assert found[0].eyes_open is True


def test_cafe_group_finds_the_four_people_facing_the_camera(samples_dir):
    # Six people; the two behind are in profile.
    found = _faces(samples_dir, f"{JPG}/Canon PowerShot A560.jpg")
    assert len(found) == 4
    assert all(face.eyes_open for face in found)
    assert [f.area for f in found] == sorted((f.area for f in found), reverse=True)


def test_dark_flash_group_finds_no_false_faces(samples_dir):
    # Three men at night; Haar at this size finds at most the best-lit face.
    found = _faces(samples_dir, f"{JPG}/Canon IXUS 300.jpg")
    assert len(found) <= 3
    for face in found:
        x, y, _, _ = face.box
        assert 300 < x < 720 and 150 < y < 260


@pytest.mark.parametrize(
    "relative",
    [
        "digikam-testdata/core/tests/imgqsort/data/test.jpg",
        "exiv2-testdata/test/data/FurnaceCreekInn.jpg",
        "exif-samples/jpg/hdr/iphone_hdr_NO.jpg",
        f"{JPG}/Apple iPhone 6.jpg",
    ],
)
def test_landscapes_have_no_faces(samples_dir, relative):
    assert _faces(samples_dir, relative) == ()


def test_eyes_closed_means_checked_and_no_open_eye_found():
    box = (0, 0, 100, 100)
    assert Face(box, None, eyes_checked=True).eyes_closed
    assert not Face(box, None, eyes_checked=False).eyes_closed
    assert not Face(box, True, eyes_checked=True).eyes_closed


def test_cascades_load_from_a_non_ascii_folder(samples_dir, tmp_path, monkeypatch):
    folder = tmp_path / "Données caméra ß"
    shutil.copytree(faces.cascade_dir(), folder, ignore=shutil.ignore_patterns("*.py*"))
    monkeypatch.setattr(faces, "cascade_dir", lambda: folder)
    faces._cascade.cache_clear()
    try:
        found = _faces(samples_dir, f"{JPG}/Canon EOS 7D.jpg")
    finally:
        faces._cascade.cache_clear()
    assert len(found) == 1


def test_blank_frame_has_no_faces():
    assert detect_faces(np.full((768, 1024), 128, np.uint8)) == ()
