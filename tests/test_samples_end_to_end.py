"""The main job, end to end, as a user runs it: `junmai-engine process --wait --json` on a
copy of the shared sample shoot (232 real camera and hostile files), then `report`.

One run serves every test in this module; each asserts values a photographer would check.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from engine.analysis.pipeline import preset_named
from engine.analysis.xmp import NS
from tests.conftest import REPO

pytestmark = pytest.mark.engine

CLI = [sys.executable, "-m", "engine.cli"]
RDF, XMP, CRS = (f"{{{NS[k]}}}" for k in ("rdf", "xmp", "crs"))


def _run(args, env):
    return subprocess.run(
        CLI + args, env=env, cwd=REPO, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def shoot(tmp_path_factory, samples_dir):
    root = tmp_path_factory.mktemp("e2e")
    folder = root / "samples"
    shutil.copytree(samples_dir, folder)
    for path in [folder, *folder.rglob("*")]:  # the shared copy is read-only; ours is not
        path.chmod(path.stat().st_mode | 0o200)
    env = {**os.environ, "JUNMAI_DATA_DIR": str(root / "data"), "JUNMAI_WORKERS": "2"}
    done = _run(["process", str(folder), "--recursive", "--wait", "--json"], env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    report = _run(["report", str(summary["session_id"]), "--format", "json"], env)
    assert report.returncode == 0, report.stderr
    (root / "summary.json").write_text(done.stdout)
    (root / "report.json").write_text(report.stdout)
    rows = {Path(r["path"]).relative_to(folder).as_posix(): r for r in json.loads(report.stdout)}
    return {"root": root, "folder": folder, "summary": summary, "rows": rows}


def test_every_photo_is_accounted_for_and_agrees_with_the_peer_library(shoot, samples_dir):
    summary = shoot["summary"]
    assert summary["total"] == 232
    assert (
        summary["completed"] + summary["failed"] + summary["unsupported"] + summary["cancelled"]
        == summary["total"]
    )
    assert summary["cancelled"] == 0
    assert len(summary["failures"]) == summary["failed"] + summary["unsupported"]
    check = subprocess.run(
        [
            sys.executable,
            str(samples_dir.parent / "tools" / "check_report.py"),
            str(shoot["root"] / "summary.json"),
            str(shoot["root"] / "report.json"),
            str(shoot["folder"]),
        ],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout


def test_broken_files_end_with_a_one_line_reason(shoot):
    rows = shoot["rows"]
    expected = {
        "photoprism-testdata/pkg/fs/testdata/empty.jpg": ("failed", "empty file (0 bytes)"),
        "pillow-test-images/Tests/images/truncated_jpeg.jpg": ("failed", "truncated JPEG"),
        "exiftool-t-images/t/images/CanonRaw.cr2": ("unsupported", "LibRaw cannot read this RAW"),
        "exiv2-testdata/test/data/issue_2160_poc.jpg": ("unsupported", "not an image we read"),
        "exiv2-testdata/test/data/issue_1793_poc.heic": ("failed", "damaged HEIF"),
    }
    for path, (status, reason) in expected.items():
        assert rows[path]["status"] == status, path
        assert reason in rows[path]["error"]
        assert "\n" not in rows[path]["error"]


def test_orientation_examples_come_out_upright_with_their_size(shoot):
    rows = shoot["rows"]
    for kind, size in (("Landscape", (1800, 1200)), ("Portrait", (1200, 1800))):
        for value in range(9):
            row = rows[f"exif-orientation-examples/{kind}_{value}.jpg"]
            assert (row["width"], row["height"]) == size
            assert row["orientation"] == max(value, 1)


def test_exif_values_of_a_known_camera(shoot):
    row = shoot["rows"]["exif-samples/jpg/Canon_40D.jpg"]
    assert (row["make"], row["model"]) == ("Canon", "Canon EOS 40D")
    assert row["datetime_original"] == "2008-05-30T15:56:01"
    assert row["exposure_time"] == pytest.approx(1 / 160)
    assert (row["f_number"], row["iso"], row["focal_length"]) == (7.1, 100, 135.0)


def test_quality_ranks_the_digikam_series(shoot):
    rows = shoot["rows"]
    series = {Path(p).stem: r for p, r in rows.items() if "imgqsort" in p}
    assert (
        series["test"]["focus"]
        > series["test_blurred_3"]["focus"]
        > series["test_blurred_7"]["focus"]
    )
    assert not series["test"]["blurry"] and series["test_blurred_3"]["blurry"]
    assert (
        series["test_overexposed_8"]["overexposed"]
        and series["test_underexposed_2"]["underexposed"]
    )
    assert not series["test"]["overexposed"] and not series["test"]["underexposed"]
    assert series["test"]["score"] > 4.5 > series["test_blurred_3"]["score"]
    # one picture and its degraded copies: one group, the original picked
    assert len({r["group_id"] for r in series.values()}) == 1
    assert series["test"]["is_best"]


def test_near_duplicates_group_and_unrelated_photos_do_not(shoot):
    rows = shoot["rows"]

    def group_of(name):
        return next(r["group_id"] for p, r in rows.items() if p.endswith(name))

    assert group_of("iphone_hdr_NO.jpg") == group_of("iphone_hdr_YES.jpg") is not None
    assert group_of("img_1771.jpg") == group_of("img_1771_no_exif.jpg") is not None
    assert group_of("IMG_4120.JPG") == group_of("IMG_4120 copy.JPG") is not None
    assert group_of("Canon_40D.jpg") is None
    assert shoot["summary"]["groups"] == len(
        {r["group_id"] for r in rows.values() if r["group_id"]}
    )


def test_sidecars_and_exports_are_written_and_read_back(shoot):
    row = shoot["rows"]["digikam-testdata/core/tests/imgqsort/data/test.jpg"]
    sidecar = Path(row["xmp_path"])
    assert sidecar == shoot["folder"] / "digikam-testdata/core/tests/imgqsort/data/test.jpg.xmp"
    description = ET.parse(sidecar).getroot().find(f"{RDF}RDF/{RDF}Description")
    assert description.get(f"{XMP}Rating") == "5"
    preset = preset_named(row["preset"])
    develop = {k.removeprefix(CRS): v for k, v in description.attrib.items() if k.startswith(CRS)}
    assert set(preset.settings) <= set(develop)
    export = Path(row["export_path"])
    assert export.parent == shoot["folder"] / "Junmai Exports"
    with Image.open(export) as image:
        assert image.size == (row["width"], row["height"])
        assert image.getexif().get(0x0112, 1) == 1
        xmp = image.info["xmp"].decode()
    assert ET.fromstring(xmp).find(f".//{RDF}Description").get(f"{XMP}Rating") == "5"
    assert NS["crs"] not in xmp
