"""Near-duplicate groups, best picks and sequences: synthetic edges and the samples."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from engine.analysis.decode import decode
from engine.analysis.exif import read_exif
from engine.analysis.grouping import GroupItem, group_photos
from engine.analysis.hashing import is_flat, phash

BASE = 0x9F3A_5C21_7788_0E4D


def _flip(value: int, bits: int) -> int:
    return value ^ ((1 << bits) - 1)


def _groups(result) -> list[list[int]]:
    found: dict[int, list[int]] = {}
    for pid, a in sorted(result.items()):
        if a.group_id is not None:
            found.setdefault(a.group_id, []).append(pid)
    return sorted(found.values())


def test_photos_close_in_time_and_hash_group_with_the_smallest_id():
    items = [
        GroupItem(7, 100.0, BASE),
        GroupItem(3, 101.0, _flip(BASE, 5)),
        GroupItem(9, 500.0, BASE),
    ]
    result = group_photos(items)
    assert result[3].group_id == result[7].group_id == 3
    assert result[3].group_size == 2
    assert result[9].group_id is None
    assert result[9].group_size == 1


@pytest.mark.parametrize(("gap", "grouped"), [(30.0, True), (30.01, False)])
def test_time_window_edge(gap, grouped):
    result = group_photos([GroupItem(1, 0.0, BASE), GroupItem(2, gap, BASE)], window_s=30.0)
    assert (result[1].group_id is not None) is grouped


@pytest.mark.parametrize(("bits", "grouped"), [(14, True), (15, False)])
def test_hash_distance_edge(bits, grouped):
    result = group_photos([GroupItem(1, 0.0, BASE), GroupItem(2, 2.0, _flip(BASE, bits))])
    assert (result[1].group_id is not None) is grouped


def test_same_instant_allows_a_looser_hash():
    edit = _flip(BASE, 20)
    assert group_photos([GroupItem(1, 5.0, BASE), GroupItem(2, 5.0, edit)])[1].group_id == 1
    assert group_photos([GroupItem(1, 5.0, BASE), GroupItem(2, 5.5, edit)])[1].group_id is None


@pytest.mark.parametrize(("bits", "grouped"), [(4, True), (5, False)])
def test_untimed_photo_groups_by_hash_alone_with_a_strict_threshold(bits, grouped):
    items = [GroupItem(1, 1e9, BASE), GroupItem(2, None, _flip(BASE, bits))]
    assert (group_photos(items)[2].group_id is not None) is grouped


def test_untimed_threshold_must_stay_below_the_band_count():
    with pytest.raises(ValueError, match="untimed_distance"):
        group_photos([], untimed_distance=5)


def test_flat_frames_never_group_by_hash():
    items = [
        GroupItem(1, 0.0, BASE, flat=True),
        GroupItem(2, 1.0, BASE, flat=True),
        GroupItem(3, None, BASE, flat=True),
        GroupItem(4, None, BASE, flat=True),
    ]
    assert _groups(group_photos(items)) == []


def test_exact_copies_group_whatever_their_time_hash_or_flatness():
    items = [
        GroupItem(1, 0.0, BASE, flat=True, content_key="abc"),
        GroupItem(2, 9e6, None, flat=True, content_key="abc"),
        GroupItem(3, None, _flip(BASE, 40), content_key="abc"),
        GroupItem(4, 9e6, BASE, content_key="other"),
    ]
    assert _groups(group_photos(items)) == [[1, 2, 3]]


def test_best_is_the_highest_score_then_faces_then_focus():
    items = [
        GroupItem(1, 0.0, BASE, score=4.0, focus=9000.0),
        GroupItem(2, 1.0, BASE, score=4.2, focus=100.0),
        GroupItem(3, 2.0, BASE, score=4.2, focus_on_faces=True, focus=50.0),
        GroupItem(4, 3.0, BASE, score=4.2, focus=200.0),
    ]
    result = group_photos(items)
    assert [pid for pid, a in sorted(result.items()) if a.is_best] == [3]
    no_faces = group_photos([items[1], items[3]])
    assert no_faces[4].is_best and not no_faces[2].is_best


def test_grouping_is_deterministic_whatever_the_input_order():
    rng = random.Random(4)
    items = [
        GroupItem(i, None if i % 7 == 0 else i * 2.0, _flip(BASE, i % 6), score=rng.random())
        for i in range(60)
    ]
    expected = group_photos(items)
    for _ in range(3):
        rng.shuffle(items)
        assert group_photos(items) == expected


def test_sequences_follow_capture_gaps():
    items = [
        GroupItem(1, 0.0, BASE),
        GroupItem(2, 50.0, 0),
        GroupItem(3, 105.0, 2**63),
        GroupItem(4, 200.0, 7),
    ]
    result = group_photos(items)
    assert [result[i].sequence_id for i in (1, 2, 3, 4)] == [1, 1, 1, None]
    assert _groups(result) == []


def test_hundred_thousand_photos_group_in_about_a_second():
    rng = random.Random(1)
    items, t = [], 1.6e9
    while len(items) < 100_000:
        base, t = rng.getrandbits(64), t + rng.expovariate(1 / 20)
        for frame in range(rng.randint(1, 7)):
            bits = rng.sample(range(64), rng.randint(0, 5))
            value = base ^ sum(1 << b for b in bits)
            taken = None if rng.random() < 0.05 else t + frame * 0.3
            items.append(GroupItem(len(items), taken, value, score=rng.random() * 4 + 1))
    start = time.perf_counter()
    result = group_photos(items)
    elapsed = time.perf_counter() - start
    assert len(result) == len(items)
    assert elapsed < 3.0  # about 0.7 s measured here; generous for slow CI machines


# Files and the groups they must form (decided by looking at them and their capture times).
NEAR_DUPS = {
    "canon hdr": [
        "exif-samples/jpg/hdr/canon_hdr_NO.jpg",
        "exif-samples/jpg/hdr/canon_hdr_YES.jpg",
    ],
    "iphone hdr": [
        "exif-samples/jpg/hdr/iphone_hdr_NO.jpg",
        "exif-samples/jpg/hdr/iphone_hdr_YES.jpg",
    ],
    "IMG_4120": [
        "photoprism-testdata/assets/examples/IMG_4120.JPG",
        "photoprism-testdata/assets/examples/IMG_4120 copy.JPG",
        "photoprism-testdata/assets/examples/IMG_E4120.JPG",
    ],
    "img_1771": [
        "exifr-fixtures/test/fixtures/img_1771.jpg",
        "exifr-fixtures/test/fixtures/img_1771_no_exif.jpg",
        "exif-samples/jpg/Canon_PowerShot_S40.jpg",  # the same bytes as img_1771.jpg
    ],
    "DSCN0012": [
        "exif-samples/jpg/gps/DSCN0012.jpg",
        "exifr-fixtures/test/fixtures/empty-imagedesc-in-ifd0.jpg",
    ],
}
SEQUENCES = {
    "furnace creek": [f"exiv2-testdata/test/data/FurnaceCreekInn{n}.jpg" for n in ("", "2", "3")],
    "finepix": [
        f"metadata-extractor-images/jpg/FujiFilm FinePix1400Zoom ({n}).jpg" for n in (1, 2, 3)
    ],
}


@pytest.fixture(scope="module")
def sample_groups(samples_dir: Path) -> dict[str, tuple[int | None, int | None]]:
    """relative path -> (group id, sequence id) over the near-dup and camera-jpeg samples."""
    rows = (samples_dir / "manifest.tsv").read_text(encoding="utf-8").splitlines()[1:]
    items, paths = [], {}
    for pid, row in enumerate(rows):
        relative, category, _, sha = row.split("\t")[:4]
        if category not in ("near-dup/burst", "camera-jpeg", "gps", "faces"):
            continue
        rgb = decode(samples_dir / relative).rgb
        taken = read_exif(samples_dir / relative).datetime_original
        items.append(
            GroupItem(
                pid, taken.timestamp() if taken else None, phash(rgb), is_flat(rgb), content_key=sha
            )
        )
        paths[pid] = relative
    result = group_photos(items)
    return {paths[pid]: (a.group_id, a.sequence_id) for pid, a in result.items()}


@pytest.mark.parametrize("name", list(NEAR_DUPS))
def test_sample_near_duplicates_group_together(sample_groups, name):
    ids = {sample_groups[path][0] for path in NEAR_DUPS[name]}
    assert len(ids) == 1 and None not in ids


def test_sample_groups_are_exactly_the_expected_ones(sample_groups):
    copies = [  # the same camera files, stored twice in the samples (equal sha256)
        ("exif-samples/jpg/exif-org/sony-d700.jpg", "metadata-extractor-images/jpg/Sony D700.jpg"),
        (
            "exif-samples/jpg/exif-org/kodak-dc240.jpg",
            "metadata-extractor-images/jpg/Kodak DC240.jpg",
        ),
        (
            "exif-samples/jpg/exif-org/ricoh-rdc5300.jpg",
            "metadata-extractor-images/jpg/Ricoh RDC5300.jpg",
        ),
        (
            "exif-samples/jpg/exif-org/sanyo-vpcsx550.jpg",
            "metadata-extractor-images/jpg/Sanyo VPCSX550.jpg",
        ),
        # One picture, once with orientation-test text drawn on it; neither has a capture
        # time, so they group by hash alone (4 bits apart).
        (
            "immich-test-assets/metadata/faces/portrait.jpg",
            "immich-test-assets/metadata/faces/portrait-orientation-6.jpg",
        ),
    ]
    expected = sorted(sorted(g) for g in [*NEAR_DUPS.values(), *map(list, copies)])
    found: dict[int, list[str]] = {}
    for path, (group_id, _) in sample_groups.items():
        if group_id is not None:
            found.setdefault(group_id, []).append(path)
    assert sorted(sorted(g) for g in found.values()) == expected


@pytest.mark.parametrize("name", list(SEQUENCES))
def test_sample_sequences_share_a_sequence_but_not_a_group(sample_groups, name):
    assert len({sample_groups[path][1] for path in SEQUENCES[name]} - {None}) == 1
    assert all(sample_groups[path][0] is None for path in SEQUENCES[name])
