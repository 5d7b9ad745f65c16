"""Lightroom XMP: sidecars merged without loss, JPEG embedding that keeps every pixel."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.analysis.xmp import (
    NS,
    XmpMetadata,
    embed_xmp,
    read_embedded_xmp,
    read_job_id,
    sidecar_path,
    write_sidecar,
)
from engine.errors import UnreadablePhoto, UnsupportedPhoto

RDF, X, XMP, CRS = (f"{{{NS[p]}}}" for p in ("rdf", "x", "xmp", "crs"))


def description(root: ET.Element) -> ET.Element:
    found = root.find(f"{RDF}RDF/{RDF}Description")
    assert found is not None
    return found


def test_sidecar_names_follow_lightroom_for_raw_and_darktable_otherwise(tmp_path: Path) -> None:
    assert sidecar_path(tmp_path / "IMG_1.CR2") == tmp_path / "IMG_1.xmp"
    assert sidecar_path(tmp_path / "DSC_7.nef") == tmp_path / "DSC_7.xmp"
    assert sidecar_path(tmp_path / "IMG_1.JPG") == tmp_path / "IMG_1.JPG.xmp"
    assert sidecar_path(tmp_path / "IMG_1.DNG") == tmp_path / "IMG_1.DNG.xmp"
    assert sidecar_path(tmp_path / "IMG_1.HEIC") == tmp_path / "IMG_1.HEIC.xmp"


def test_new_sidecar_is_rdf_xml_with_lightroom_namespaces(tmp_path: Path) -> None:
    raw = tmp_path / "IMG_0001.CR2"
    meta = XmpMetadata(
        rating=4,
        label="Yellow",
        crs={"Exposure2012": 0.5, "Contrast2012": -10, "Temperature": 5200},
    )
    path = write_sidecar(raw, meta)
    assert path == tmp_path / "IMG_0001.xmp"
    root = ET.parse(path).getroot()
    assert root.tag == f"{X}xmpmeta"
    desc = description(root)
    assert desc.get(f"{RDF}about") == ""
    assert desc.get(f"{XMP}Rating") == "4"
    assert desc.get(f"{XMP}Label") == "Yellow"
    assert desc.get(f"{CRS}Exposure2012") == "+0.50"
    assert desc.get(f"{CRS}Contrast2012") == "-10"
    assert desc.get(f"{CRS}Temperature") == "5200"
    assert desc.get(f"{CRS}WhiteBalance") == "Custom"
    assert desc.get(f"{CRS}HasSettings") == "True"
    text = path.read_text(encoding="utf-8")
    assert 'xmlns:xmp="http://ns.adobe.com/xap/1.0/"' in text
    assert 'xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"' in text
    assert not raw.exists()  # the original is never created or touched


EXISTING = """<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
    xmlns:studio="http://example.com/studio/1.0/"
   crs:Sharpness="40"
   crs:Exposure2012="-1.00"
   studio:Client="Müller wedding">
   <xmp:Rating>1</xmp:Rating>
   <dc:title xmlns:dc="http://purl.org/dc/elements/1.1/">
    <rdf:Alt><rdf:li xml:lang="x-default">First dance</rdf:li></rdf:Alt>
   </dc:title>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:lr="http://ns.adobe.com/lightroom/1.0/">
   <lr:hierarchicalSubject><rdf:Bag><rdf:li>People|Anna</rdf:li></rdf:Bag></lr:hierarchicalSubject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def test_merge_keeps_everything_it_does_not_set(tmp_path: Path) -> None:
    raw = tmp_path / "IMG_0002.NEF"
    sidecar = tmp_path / "IMG_0002.xmp"
    sidecar.write_text(EXISTING, encoding="utf-8")
    write_sidecar(raw, XmpMetadata(rating=5, label="Red", crs={"Exposure2012": 0.3}))
    root = ET.parse(sidecar).getroot()
    first, second = root.findall(f"{RDF}RDF/{RDF}Description")
    assert first.get(f"{XMP}Rating") == "5"
    assert first.find(f"{XMP}Rating") is None  # the old element form is replaced, not doubled
    assert len(root.findall(f".//{XMP}Rating")) == 0
    assert first.get(f"{XMP}Label") == "Red"
    assert first.get(f"{CRS}Exposure2012") == "+0.30"
    assert first.get(f"{CRS}Sharpness") == "40"
    assert first.get("{http://example.com/studio/1.0/}Client") == "Müller wedding"
    title = first.find("{http://purl.org/dc/elements/1.1/}title//" + f"{RDF}li")
    assert title is not None and title.text == "First dance"
    subject = second.find(".//" + f"{RDF}li")
    assert subject is not None and subject.text == "People|Anna"
    text = sidecar.read_text(encoding="utf-8")
    assert "studio:Client" in text  # the unknown namespace keeps its prefix
    assert text.count("Rating") == 1


def test_a_broken_sidecar_is_left_untouched(tmp_path: Path) -> None:
    sidecar = tmp_path / "IMG_3.xmp"
    sidecar.write_text("<x:xmpmeta><unclosed>", encoding="utf-8")
    with pytest.raises(UnreadablePhoto, match=r"^IMG_3.xmp is not valid XMP"):
        write_sidecar(tmp_path / "IMG_3.ARW", XmpMetadata(rating=3))
    assert sidecar.read_text(encoding="utf-8") == "<x:xmpmeta><unclosed>"


def test_entity_tricks_are_refused(tmp_path: Path) -> None:
    sidecar = tmp_path / "IMG_4.xmp"
    sidecar.write_text('<!DOCTYPE x [<!ENTITY a "aaaa">]><x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    with pytest.raises(UnreadablePhoto, match="DOCTYPE"):
        write_sidecar(tmp_path / "IMG_4.CR3", XmpMetadata(rating=3))


def test_rating_outside_0_to_5_is_refused() -> None:
    with pytest.raises(ValueError, match="0–5"):
        XmpMetadata(rating=6)


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def without_xmp(data: bytes) -> bytes:
    """The JPEG's bytes with its XMP APP1 segment cut out."""
    marker = b"http://ns.adobe.com/xap/1.0/\x00"
    start = data.index(marker) - 4
    end = start + 2 + int.from_bytes(data[start + 2 : start + 4], "big")
    return data[:start] + data[end:]


def test_embedding_changes_metadata_only(copy_sample) -> None:
    photo = copy_sample("exif-orientation-examples/Landscape_6.jpg", "IMG 東京.jpg")
    before_bytes, before_pixels = photo.read_bytes(), pixels(photo)
    embed_xmp(photo, XmpMetadata(rating=3, label="Yellow", crs={"Exposure2012": 0.25}))
    after = photo.read_bytes()
    assert np.array_equal(pixels(photo), before_pixels)
    assert without_xmp(after) == before_bytes  # every non-XMP byte is unchanged
    with Image.open(photo) as im:  # Pillow locates the packet independently
        desc = description(ET.fromstring(im.info["xmp"]))
        assert im.getexif()[0x0112] == 6
    assert desc.get(f"{XMP}Rating") == "3"
    assert desc.get(f"{XMP}Label") == "Yellow"
    assert desc.get(f"{CRS}Exposure2012") == "+0.25"


def test_embedding_twice_merges_into_one_packet(copy_sample) -> None:
    photo = copy_sample("exif-samples/jpg/xmp/no_exif.jpg")
    original = photo.read_bytes()
    embed_xmp(photo, XmpMetadata(rating=2))
    embed_xmp(photo, XmpMetadata(rating=4, label="Red"))
    data = photo.read_bytes()
    assert data.count(b"http://ns.adobe.com/xap/1.0/\x00") == 1
    packet = read_embedded_xmp(photo)
    assert packet is not None
    desc = description(ET.fromstring(packet))
    assert desc.get(f"{XMP}Rating") == "4" and desc.get(f"{XMP}Label") == "Red"
    # Photoshop's and a third-party tool's properties survive, prefixes included.
    assert desc.get(f"{XMP}CreatorTool") == "Adobe Photoshop CS5.1 Macintosh"
    assert desc.get("{http://www.elpical.com/claro/synt1.0/}Version") == "9.0.0update17"
    assert b"claro:Version" in packet
    assert without_xmp(data)[-1000:] == without_xmp(original)[-1000:]


def test_pillow_getxmp_reads_the_rating(copy_sample) -> None:
    photo = copy_sample("exif-samples/jpg/gps/DSCN0010.jpg")  # has a MicrosoftPhoto:Rating 0
    embed_xmp(photo, XmpMetadata(rating=5, label="Green"))
    with Image.open(photo) as im:
        found = im.getxmp()["xmpmeta"]["RDF"]["Description"]
    # getxmp drops namespaces: xmp:Rating (stars) and Windows' MicrosoftPhoto:Rating (percent)
    assert (sorted(found["Rating"]), found["Label"]) == (["5", "99"], "Green")


def test_embedding_into_non_jpeg_is_unsupported(samples_dir: Path, copy_sample) -> None:
    tiff = copy_sample("exif-samples/tiff/BSG1.tiff")
    before = tiff.read_bytes()
    with pytest.raises(UnsupportedPhoto, match="XMP can only be embedded into JPEG"):
        embed_xmp(tiff, XmpMetadata(rating=3))
    assert tiff.read_bytes() == before


def test_job_id_marker_round_trips(tmp_path: Path) -> None:
    photo = tmp_path / "a.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="JPEG")
    photo.write_bytes(buffer.getvalue())
    assert read_job_id(photo) is None
    embed_xmp(photo, XmpMetadata(rating=1, job_id="42"))
    assert read_job_id(photo) == "42"
    assert read_job_id(tmp_path / "missing.jpg") is None
