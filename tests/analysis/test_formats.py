"""Format detection by content and grouping of a folder's files into photos."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.analysis.formats import PhotoFiles, collect_photos, describe_unknown, detect_format


@pytest.mark.parametrize(
    ("head", "suffix", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", ".jpg", "jpeg"),
        (b"\xff\xd8\xff\xe1\x00\x10Exif", ".heic", "jpeg"),  # wrong extension: content wins
        (b"\x89PNG\r\n\x1a\n\x00\x00", ".jpg", "png"),
        (b"II*\x00\x08\x00\x00\x00", ".tif", "tiff"),
        (b"II*\x00\x08\x00\x00\x00", ".NEF", "raw"),
        (b"MM\x00*\x00\x00\x00\x08", ".dng", "raw"),
        (b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01", ".CR3", "raw"),
        (b"FUJIFILMCCD-RAW 0201", ".RAF", "raw"),
        (b"IIU\x00\x18\x00\x00\x00", ".RW2", "raw"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", ".webp", "webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", ".HEIC", "heif"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", ".avif", "heif"),
        (b"%PDF-1.7\n", ".jpg", None),
        (b"hello, this is text", ".NEF", None),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", ".mp4", None),
    ],
)
def test_detect_format_reads_the_bytes(head: bytes, suffix: str, expected: str | None) -> None:
    assert detect_format(head, suffix) == expected


def test_describe_unknown_names_common_non_images() -> None:
    assert describe_unknown(b"%PDF-1.4") == "a PDF document"
    assert describe_unknown(b"Dear client,\nhere are the photos") == "a text file"
    assert describe_unknown(b"<!DOCTYPE html><html>") == "an HTML page"


def touch(folder: Path, *names: str) -> None:
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def test_collect_pairs_raw_and_jpeg_and_skips_sidecars_and_our_exports(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "IMG_0002.CR2",
        "IMG_0002.JPG",
        "IMG_0002.xmp",
        "IMG_0001.jpg",
        "DSC_9.NEF",
        "notes.txt",
        "clip.MOV",
        ".DS_Store",
        "._IMG_0001.jpg",
        "mystery.bin",
        "Junmai Exports/IMG_0001.jpg",
        ".hidden/IMG_5.jpg",
        "day 2/Hochzeit Müller 東京 1.jpg",
    )
    photos = collect_photos(tmp_path, recursive=True)
    assert [p.primary.relative_to(tmp_path).as_posix() for p in photos] == [
        "DSC_9.NEF",
        "IMG_0001.jpg",
        "IMG_0002.CR2",
        "day 2/Hochzeit Müller 東京 1.jpg",
        "mystery.bin",
    ]
    pair = photos[2]
    assert pair.files == (tmp_path / "IMG_0002.CR2", tmp_path / "IMG_0002.JPG")
    assert pair.raw == tmp_path / "IMG_0002.CR2"
    assert pair.analysis_file == tmp_path / "IMG_0002.JPG"
    lone_raw = photos[0]
    assert lone_raw.raw == lone_raw.primary == lone_raw.analysis_file
    assert photos[1].raw is None


def test_collect_without_recursion_stays_in_the_folder(tmp_path: Path) -> None:
    touch(tmp_path, "a.jpg", "sub/b.jpg")
    assert collect_photos(tmp_path, recursive=False) == [PhotoFiles.single(tmp_path / "a.jpg")]


def test_collect_bad_folders_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="folder does not exist"):
        collect_photos(tmp_path / "nope", recursive=True)
    touch(tmp_path, "a.jpg")
    with pytest.raises(NotADirectoryError, match="not a folder"):
        collect_photos(tmp_path / "a.jpg", recursive=True)
    (tmp_path / "empty").mkdir()
    assert collect_photos(tmp_path / "empty", recursive=True) == []


def test_collect_finds_every_sample_file(
    samples_dir: Path, manifest: list[tuple[Path, str]], tmp_path: Path
) -> None:
    photos = collect_photos(samples_dir, recursive=True)
    collected = {f for p in photos for f in p.files}
    missing = [str(path) for path, _ in manifest if path not in collected]
    assert missing == []
    assert photos == sorted(photos, key=lambda p: p.primary)
    # The reference dumps (.txt), the manifest and INDEX.md are not photos.
    assert not [f for f in collected if f.suffix in (".txt", ".tsv", ".md")]


def test_collect_is_deterministic_whatever_the_copy_order(
    samples_dir: Path, tmp_path: Path
) -> None:
    source = samples_dir / "exif-orientation-examples"
    for name in sorted(p.name for p in source.iterdir())[::-1]:
        shutil.copyfile(source / name, tmp_path / name)
    names = [p.primary.name for p in collect_photos(tmp_path, recursive=False)]
    assert names == sorted(names) and len(names) == 18
