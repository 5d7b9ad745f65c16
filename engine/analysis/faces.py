"""Face boxes and an eyes-open estimate, from OpenCV's Haar cascades (OpenCV 4.x).

Detection runs on the grey analysis image reduced to DETECT_EDGE (448 px long edge) with
`haarcascade_frontalface_alt2` (fewer false hits than `default` on the samples, same
faces found), scale step 1.25, 3 neighbours, smallest face MIN_FACE (20 px) there, i.e.
about 4.5 % of the long edge: smaller faces are too small to judge anyway.
Measured on the samples: about 30 ms a photo on a 2-core VM, below the cost of the decode
(bench/stages.py).
Frontal faces only: a face in profile is not found.

Eyes: for a face at least EYE_CHECK_MIN (80 px) wide on the analysis image,
`haarcascade_eye_tree_eyeglasses` (also finds eyes behind glasses) runs on the upper
part of the face at analysis resolution. An eye found means `eyes_open=True`; none
found means `eyes_open=None` ("unsure": closed, hidden by hair or sunglasses, or
looking away), which the score turns into "needs review", never into a reject. Smaller
faces are not checked (`eyes_checked=False`). Haar eye cascades also fire on some closed
eyes, so True is an estimate, not a proof.

The cascades are read once per process (lazy cache). The XML is read by Python and
handed to OpenCV through `cv2.FileStorage` in memory, because `cv2.CascadeClassifier`
opening a path fails on Windows when the path is not ASCII (an install folder under a
user name with accents, say); reading bytes ourselves works from any path, including a
PyInstaller bundle.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engine.errors import JunmaiError

DETECT_EDGE = 448
MIN_FACE = 20
EYE_CHECK_MIN = 80
FACE_CASCADE = "haarcascade_frontalface_alt2.xml"
EYE_CASCADE = "haarcascade_eye_tree_eyeglasses.xml"


@dataclass(frozen=True)
class Face:
    """One face: `box` is (x, y, w, h) in analysis-image pixels.

    `eyes_open` is True when an eye was found, None when unsure; `eyes_checked` is False
    when the face was too small to look for eyes.
    """

    box: tuple[int, int, int, int]
    eyes_open: bool | None
    eyes_checked: bool

    @property
    def eyes_closed(self) -> bool:
        """Eyes may be closed: a face large enough to check showed no open eye (needs review)."""
        return self.eyes_checked and self.eyes_open is None

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


def cascade_dir() -> Path:
    """Where the Haar XML files are: the data folder of the installed opencv-python wheel."""
    return Path(cv2.data.haarcascades)  # type: ignore[attr-defined]


@functools.cache
def _cascade(name: str) -> cv2.CascadeClassifier:
    path = cascade_dir() / name
    try:
        xml = path.read_text(encoding="utf-8")
    except OSError as err:
        raise JunmaiError(f"face detector data missing: {path} ({err})") from err
    storage = cv2.FileStorage(xml, cv2.FILE_STORAGE_READ | cv2.FILE_STORAGE_MEMORY)
    classifier = cv2.CascadeClassifier()
    if not classifier.read(storage.getFirstTopLevelNode()) or classifier.empty():
        raise JunmaiError(f"face detector data unreadable: {path}")
    return classifier


def _eyes_open(gray: np.ndarray, box: tuple[int, int, int, int]) -> bool | None:
    x, y, w, h = box
    # Eyes sit between about 20 % and 55 % of a Haar face box's height.
    band = gray[y + h // 5 : y + (h * 11) // 20, x : x + w]
    eye = max(12, w // 8)
    eyes = _cascade(EYE_CASCADE).detectMultiScale(
        band, scaleFactor=1.1, minNeighbors=3, minSize=(eye, eye), maxSize=(w // 2, w // 2)
    )
    return True if len(eyes) else None


def detect_faces(gray: np.ndarray) -> tuple[Face, ...]:
    """Frontal faces on the grey analysis image (H×W uint8), largest first."""
    scale = min(1.0, DETECT_EDGE / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = _cascade(FACE_CASCADE).detectMultiScale(
        small, scaleFactor=1.25, minNeighbors=3, minSize=(MIN_FACE, MIN_FACE)
    )
    faces = []
    for sx, sy, sw, sh in found:
        box = (round(sx / scale), round(sy / scale), round(sw / scale), round(sh / scale))
        checked = box[2] >= EYE_CHECK_MIN
        faces.append(Face(box, _eyes_open(gray, box) if checked else None, checked))
    return tuple(sorted(faces, key=lambda f: (-f.area, f.box)))
