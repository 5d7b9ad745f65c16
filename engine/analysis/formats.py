"""What a file is (by its bytes, not its name) and which files of a folder make up one photo.

Collection rules:
- hidden files and folders (leading dot) and our own output folder "Junmai Exports" are
  skipped, and so are files whose extension says they are not photos (sidecars, text,
  databases, video): see `SKIPPED_EXTENSIONS`;
- every other file becomes a photo, whatever its extension, so a damaged or mislabelled
  file ends `unsupported`/`failed` with a reason instead of silently disappearing;
- a proprietary RAW and a JPEG/HEIF with the same base name in the same folder (the
  camera's RAW+JPEG mode) are one photo. Its identity (`primary`) is the RAW: that is the
  master the photographer develops and the file that receives the XMP sidecar. Analysis
  decodes the camera JPEG instead (DCT-scaled decoding is far faster than any RAW path),
  see `PhotoFiles.analysis_file`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

EXPORT_FOLDER = "Junmai Exports"

RAW_EXTENSIONS = frozenset(
    [
        ".3fr",
        ".ari",
        ".arw",
        ".cr2",
        ".cr3",
        ".crw",
        ".dcr",
        ".dng",
        ".erf",
        ".fff",
        ".iiq",
        ".k25",
        ".kdc",
        ".mef",
        ".mos",
        ".mrw",
        ".nef",
        ".nrw",
        ".orf",
        ".ori",
        ".pef",
        ".raf",
        ".raw",
        ".rw2",
        ".rwl",
        ".sr2",
        ".srf",
        ".srw",
        ".x3f",
    ]
)
"""Extensions of camera RAW files (LibRaw reads them through rawpy)."""

PROPRIETARY_RAW_EXTENSIONS = RAW_EXTENSIONS - {".dng"}
"""RAWs for which Lightroom reads an `.xmp` sidecar; for DNG it reads embedded XMP only."""

COMPANION_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".heic", ".heif", ".hif"})
"""Files a camera writes beside a RAW in RAW+JPEG (or RAW+HEIF) mode."""

SKIPPED_EXTENSIONS = frozenset(
    [
        ".xmp",
        ".pp3",
        ".dop",
        ".on1",
        ".cos",
        ".cof",
        ".cot",
        ".thm",
        ".aae",
        ".txt",
        ".md",
        ".rst",
        ".json",
        ".xml",
        ".csv",
        ".tsv",
        ".log",
        ".ini",
        ".db",
        ".sqlite",
        ".lrcat",
        ".lrdata",
        ".html",
        ".htm",
        ".pdf",
        ".doc",
        ".docx",
        ".zip",
        ".tar",
        ".gz",
        ".7z",
        ".exe",
        ".dll",
        ".py",
        ".sh",
        ".bat",
        ".ds_store",
        ".mov",
        ".mp4",
        ".m4v",
        ".avi",
        ".mts",
        ".m2ts",
        ".mkv",
        ".wav",
        ".mp3",
        ".lrv",
        ".wmv",
        ".3gp",
    ]
)
"""Not photos: sidecars (ours and other tools'), documents, archives, video and sound."""

SKIPPED_NAMES = frozenset({"thumbs.db", "desktop.ini"})

# Formats we decode: JPEG (also MPO, a JPEG with extra frames), PNG, TIFF, WebP, HEIF family, RAW.
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
)
_RAW_MAGIC = (
    b"FUJIFILMCCD-RAW",  # RAF
    b"IIRO",  # ORF
    b"IIRS",  # ORF
    b"MMOR",  # ORF big-endian
    b"IIU\x00",  # RW2
    b"\x00MRM",  # MRW
    b"FOVb",  # X3F
)
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")

HEAD_BYTES = 64
"""Bytes read from the start of a file to recognise its format."""


def _ftyp_brands(head: bytes) -> set[bytes]:
    if head[4:8] != b"ftyp":
        return set()
    size = int.from_bytes(head[0:4], "big")
    end = min(max(size, 16), len(head))
    return {head[8:12]} | {head[i : i + 4] for i in range(16, end - 3, 4)}


def detect_format(head: bytes, suffix: str = "") -> str | None:
    """Name the format of a file from its first bytes: "jpeg", "png", "tiff", "webp",
    "heif", "raw", or None when it is none we read.

    `suffix` (e.g. ".NEF") only tells a RAW apart from a TIFF or a JPEG-wrapped RAW:
    a file with a RAW extension is RAW unless its bytes say it is not an image at all.
    """
    brands = _ftyp_brands(head)
    is_raw_name = suffix.lower() in RAW_EXTENSIONS
    if (
        b"crx " in brands
        or head.startswith(_RAW_MAGIC)
        or head.startswith(b"II\x1a\x00\x00\x00HEAPCCDR")
    ):
        return "raw"
    if is_raw_name and (head.startswith(_TIFF_MAGIC) or head.startswith(b"\xff\xd8\xff")):
        return "raw"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(_TIFF_MAGIC):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if brands & _HEIF_BRANDS:
        return "heif"
    return None


_KNOWN_OTHERS = (
    (b"%PDF", "a PDF document"),
    (b"GIF8", "a GIF image, not a photo format we process"),
    (b"BM", "a BMP image, not a photo format we process"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x00\x00\x01\x00", "an icon file"),
    (b"8BPS", "a Photoshop document, not a photo format we process"),
    (b"\x1f\x8b", "a gzip archive"),
)


def describe_unknown(head: bytes) -> str:
    """Say in a few words what a file we do not read looks like ("a PDF document")."""
    for magic, what in _KNOWN_OTHERS:
        if head.startswith(magic):
            return what
    if _ftyp_brands(head):
        return "a video or an ISO media file without a HEIF image"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    if stripped.startswith(b"<"):
        return "an XML/text file"
    try:
        # The last bytes may cut a multi-byte character in two.
        text = head[: max(len(head) - 3, 1)].decode("utf-8")
    except UnicodeDecodeError:
        return "unknown binary data"
    return "a text file" if text.isprintable() or "\n" in text else "unknown binary data"


@dataclass(frozen=True)
class PhotoFiles:
    """The files of one photo: `primary` is its identity (the RAW of a RAW+JPEG pair)."""

    primary: Path
    files: tuple[Path, ...]
    raw: Path | None = None

    @property
    def analysis_file(self) -> Path:
        """The file to decode for analysis: the camera JPEG/HEIF of a pair, else `primary`."""
        companions = [f for f in self.files if f != self.raw]
        return companions[0] if self.raw is not None and companions else self.primary

    @classmethod
    def single(cls, path: Path) -> PhotoFiles:
        """One file on its own (a RAW without companion is its own `raw`)."""
        is_raw = path.suffix.lower() in RAW_EXTENSIONS
        return cls(primary=path, files=(path,), raw=path if is_raw else None)


def _is_candidate(name: str) -> bool:
    if name.startswith(".") or name.lower() in SKIPPED_NAMES:
        return False
    return os.path.splitext(name)[1].lower() not in SKIPPED_EXTENSIONS


def _group_folder(folder: Path, names: list[str]) -> list[PhotoFiles]:
    by_stem: dict[str, list[Path]] = {}
    for name in sorted(names):
        by_stem.setdefault(os.path.splitext(name)[0].casefold(), []).append(folder / name)
    photos: list[PhotoFiles] = []
    for paths in by_stem.values():
        raws = [p for p in paths if p.suffix.lower() in RAW_EXTENSIONS]
        companions = [p for p in paths if p.suffix.lower() in COMPANION_EXTENSIONS]
        if raws and companions:
            raw, companion = raws[0], companions[0]
            photos.append(PhotoFiles(primary=raw, files=(raw, companion), raw=raw))
            paths = [p for p in paths if p not in (raw, companion)]
        photos.extend(PhotoFiles.single(p) for p in paths)
    return photos


def collect_photos(folder: Path, recursive: bool = False) -> list[PhotoFiles]:
    """List the photos in `folder` (and its sub-folders when `recursive`), sorted by path.

    Raises FileNotFoundError / NotADirectoryError with a one-line message for a bad folder.
    Sub-folders that cannot be listed are skipped.
    """
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"folder does not exist: {folder}")
    if not folder.is_dir():
        raise NotADirectoryError(f"not a folder: {folder}")
    photos: list[PhotoFiles] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = (
            [d for d in dirnames if not d.startswith(".") and d != EXPORT_FOLDER]
            if recursive
            else []
        )
        names = [
            n for n in filenames if _is_candidate(n) and os.path.isfile(os.path.join(dirpath, n))
        ]
        photos.extend(_group_folder(Path(dirpath), names))
    return sorted(photos, key=lambda p: p.primary)
