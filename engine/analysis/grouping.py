"""Near-duplicate groups of a session, the best photo of each, and capture sequences.

Two photos join the same group (union-find, so groups are the connected pieces) when:
- they have the same content key (sha256 of the file: an exact copy), flat or not; or
- both have a capture time, they were taken at most `window_s` apart (default 30 s) and
  their perceptual hashes differ in at most `max_distance` bits (default 14 of 64); taken
  at the same instant (at most 1 ms apart: an in-camera edit, or burst frames of a camera
  that records whole seconds only) `same_instant_distance` bits (default 22) are allowed,
  which keeps a cropped black-and-white edit with its original; or
- at least one of them has no capture time and their hashes differ in at most
  `untimed_distance` bits (default 4): by hash alone, so stricter.
A flat frame (lens cap, blank sky: `is_flat`) never groups by hash, only as an exact copy.
A group has two or more photos; its id is its smallest photo id (deterministic), and its
best photo has the highest score; ties go to the photo whose focus was measured on faces,
then to the higher focus, then to the smaller id.

The defaults were set on the samples (perceptual hash of the upright analysis image):
HDR on/off pairs differ by 4 (iPhone, 0.5 s apart) and 14 bits (Canon SX60, re-shot 26 s
later in HDR mode; hence a window of 30 s rather than a few seconds); a photo and its
copy without EXIF by 0; IMG_E4120 (the iPhone's square black-and-white edit of IMG_4120,
same capture instant) by 20. Unrelated photos of the samples differ by 16 bits at the
very least and by 28–36 typically; the hash is what keeps them apart, the window only
limits what is compared.

Sequences: timed photos whose consecutive capture times are at most `sequence_gap_s`
(default 60 s) apart share a `sequence_id` (smallest photo id; None for a lone photo),
what Lightroom's auto-stack by capture time does. FurnaceCreekInn 1–3 (three views of
the inn 6–7 s apart) and the FinePix1400Zoom frames (cereal, fruit, a teddy bear within
a minute) are sequences, not near-duplicates: each picture shows something the others do
not, so no best pick may hide one of them.

Cost: timed photos are sorted by time and each is compared, vectorised, with at most
`max_neighbours` (64) following photos inside the window; in a longer burst, similar
frames still chain through their neighbours. Untimed photos are found by multi-index
hashing: the 64 bits are cut into UNTIMED_BANDS (5) bands of 12–13 bits; two hashes at
most 4 bits apart agree exactly on at least one band (pigeonhole: 5 bands, 4 differing
bits), so only photos sharing a band value are compared. 100,000 photos group in well
under a second (bench/stages.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

UNTIMED_BANDS = 5
_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


@dataclass(frozen=True)
class GroupItem:
    """What grouping needs to know about one photo.

    `taken_at` is the capture time in epoch seconds (None if unknown); `phash` the
    perceptual hash (None if it could not be computed); `content_key` identifies exact
    copies (the file's sha256).
    """

    photo_id: int
    taken_at: float | None
    phash: int | None
    flat: bool = False
    score: float = 0.0
    content_key: str | None = None
    focus_on_faces: bool = False
    focus: float = 0.0


@dataclass(frozen=True)
class GroupAssignment:
    """One photo's place: its group (None when alone), whether it is the group's best pick."""

    group_id: int | None
    is_best: bool
    group_size: int
    sequence_id: int | None


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union_pairs(self, a: np.ndarray, b: np.ndarray) -> None:
        for i, j in zip(a.tolist(), b.tolist(), strict=True):
            ri, rj = self.find(i), self.find(j)
            if ri != rj:
                self.parent[max(ri, rj)] = min(ri, rj)


def _popcount(x: np.ndarray) -> np.ndarray:
    return _POPCOUNT8[x.view(np.uint8)].reshape(-1, 8).sum(axis=1)


@dataclass(frozen=True)
class _Limits:
    window_s: float
    max_distance: int
    same_instant_s: float
    same_instant_distance: int
    max_neighbours: int


def _timed_edges(
    times: np.ndarray, hashes: np.ndarray, usable: np.ndarray, p: _Limits
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs of timed photos close in time and in hash, `times` sorted."""
    pairs_a, pairs_b = [], []
    for k in range(1, min(p.max_neighbours, len(times) - 1) + 1):
        dt = times[k:] - times[:-k]
        near = dt <= p.window_s
        if not near.any():
            break
        a = np.nonzero(near & usable[:-k] & usable[k:])[0]
        b = a + k
        dist = _popcount(hashes[a] ^ hashes[b])
        same_instant = dt[a] <= p.same_instant_s
        ok = (dist <= p.max_distance) | (same_instant & (dist <= p.same_instant_distance))
        pairs_a.append(a[ok])
        pairs_b.append(b[ok])
    if not pairs_a:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(pairs_a), np.concatenate(pairs_b)


def _untimed_edges(
    hashes: np.ndarray, untimed: np.ndarray, max_distance: int
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs of distinct hashes within max_distance bits, one of them untimed (MIH)."""
    pairs_a, pairs_b = [], []
    bounds = np.linspace(0, 64, UNTIMED_BANDS + 1).astype(np.uint64)
    for lo, hi in itertools.pairwise(bounds):
        keys = (hashes >> lo) & ((np.uint64(1) << (hi - lo)) - np.uint64(1))
        # Only buckets holding an untimed photo can yield a pair.
        (rows,) = np.nonzero(np.isin(keys, keys[untimed]))
        rows = rows[np.argsort(keys[rows], kind="stable")]
        sorted_keys = keys[rows]
        for k in range(1, len(rows)):
            (same,) = np.nonzero(sorted_keys[k:] == sorted_keys[:-k])
            if not len(same):
                break
            a, b = rows[same], rows[same + k]
            ok = (untimed[a] | untimed[b]) & (_popcount(hashes[a] ^ hashes[b]) <= max_distance)
            pairs_a.append(a[ok])
            pairs_b.append(b[ok])
    if not pairs_a:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(pairs_a), np.concatenate(pairs_b)


def _untimed_unions(
    uf: _UnionFind, rows: np.ndarray, hashes: np.ndarray, untimed: np.ndarray, distance: int
) -> None:
    """Join the photos `rows` by hash alone where one of a pair is untimed."""
    # Identical hashes are searched once: a session full of copies stays linear.
    unique, first, inverse = np.unique(hashes[rows], return_index=True, return_inverse=True)
    unique_untimed = np.zeros(len(unique), dtype=bool)
    np.logical_or.at(unique_untimed, inverse, untimed[rows])
    a, b = _untimed_edges(unique, unique_untimed, distance)
    joined = unique_untimed.copy()
    joined[a] = joined[b] = True
    (members,) = np.nonzero(joined[inverse])
    uf.union_pairs(rows[first[inverse[members]]], rows[members])
    uf.union_pairs(rows[first[a]], rows[first[b]])


def _sequences(items: Sequence[GroupItem], gap_s: float) -> dict[int, int]:
    timed = sorted((it.taken_at, it.photo_id) for it in items if it.taken_at is not None)
    result: dict[int, int] = {}
    run: list[int] = []
    previous = None
    for taken_at, photo_id in [*timed, (None, None)]:
        if taken_at is None or previous is None or taken_at - previous > gap_s:
            if len(run) > 1:
                result.update(dict.fromkeys(run, min(run)))
            run = []
        if photo_id is not None:
            run.append(photo_id)
        previous = taken_at
    return result


def _best_key(item: GroupItem) -> tuple[float, bool, float, int]:
    return (item.score, item.focus_on_faces, item.focus, -item.photo_id)


def group_photos(
    items: Sequence[GroupItem],
    *,
    window_s: float = 30.0,
    max_distance: int = 14,
    same_instant_s: float = 0.001,
    same_instant_distance: int = 22,
    untimed_distance: int = 4,
    sequence_gap_s: float = 60.0,
    max_neighbours: int = 64,
) -> dict[int, GroupAssignment]:
    """Near-duplicate groups and sequences of a session, keyed by photo id.

    The keyword thresholds are those of the module docstring; `untimed_distance` must be
    below UNTIMED_BANDS (5) for the multi-index search to find every pair.
    """
    if not 0 <= untimed_distance < UNTIMED_BANDS:
        raise ValueError(f"untimed_distance must be 0–{UNTIMED_BANDS - 1}, not {untimed_distance}")
    limits = _Limits(window_s, max_distance, same_instant_s, same_instant_distance, max_neighbours)
    items = sorted(items, key=lambda it: (it.taken_at is None, it.taken_at or 0.0, it.photo_id))
    n = len(items)
    uf = _UnionFind(n)

    first_with_key: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.content_key is not None:
            j = first_with_key.setdefault(item.content_key, i)
            if j != i:
                uf.union_pairs(np.array([j]), np.array([i]))

    hashes = np.array([it.phash or 0 for it in items], dtype=np.uint64)
    usable = np.array([it.phash is not None and not it.flat for it in items], dtype=bool)
    untimed = np.array([it.taken_at is None for it in items], dtype=bool)
    timed_count = n - int(untimed.sum())
    times = np.array([it.taken_at or 0.0 for it in items[:timed_count]], dtype=np.float64)
    uf.union_pairs(*_timed_edges(times, hashes[:timed_count], usable[:timed_count], limits))
    if (untimed & usable).any():
        _untimed_unions(uf, np.nonzero(usable)[0], hashes, untimed, untimed_distance)

    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(uf.find(i), []).append(i)
    sequences = _sequences(items, sequence_gap_s)
    result: dict[int, GroupAssignment] = {}
    for group in members.values():
        size = len(group)
        group_id = min(items[i].photo_id for i in group) if size > 1 else None
        best = max(group, key=lambda i: _best_key(items[i]))
        for i in group:
            pid = items[i].photo_id
            result[pid] = GroupAssignment(
                group_id=group_id,
                is_best=size > 1 and i == best,
                group_size=size,
                sequence_id=sequences.get(pid),
            )
    return result
