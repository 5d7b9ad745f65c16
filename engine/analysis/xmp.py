"""Adobe XMP for Lightroom and other tools: rating, colour label and develop settings (crs:*),
as a sidecar file or embedded in a JPEG.

What Lightroom reads: an `.xmp` sidecar only beside a proprietary RAW (`IMG_1.CR2` →
`IMG_1.xmp`); for JPEG, TIFF, HEIC and DNG only XMP embedded in the file. Embedding
(`embed_xmp`, JPEG only) is an opt-in setting because it rewrites the original (its
metadata only: the image data is copied byte for byte). Otherwise a non-RAW photo gets
`IMG_1.JPG.xmp`: darktable, digiKam and exiftool read that name, and it cannot collide
with the `IMG_1.xmp` of a RAW+JPEG pair's RAW (Bridge/Capture One, which look for
`IMG_1.xmp`, would then see the RAW's settings, which is right for a pair).

Existing XMP is merged: only xmp:Rating, xmp:Label, the crs:* keys given and our
junmai:JobId are set; every other namespace, attribute and element is kept.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.analysis.formats import PROPRIETARY_RAW_EXTENSIONS
from engine.errors import UnreadablePhoto, UnsupportedPhoto
from engine.fsutil import atomic_write_bytes

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "crs": "http://ns.adobe.com/camera-raw-settings/1.0/",
    "junmai": "http://ns.junmai.app/xmp/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "aux": "http://ns.adobe.com/exif/1.0/aux/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "stEvt": "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
    "lr": "http://ns.adobe.com/lightroom/1.0/",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)

LABELS = ("Red", "Yellow", "Green", "Blue", "Purple")
"""Lightroom's default colour label names. We use Red = reject, Yellow = needs review."""

_RDF = f"{{{NS['rdf']}}}"
_XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
_MAX_APP1_PAYLOAD = 65533  # a segment's 16-bit length counts itself (2 bytes)
_PACKET_ID = "W5M0MpCehiHzreSzNTczkc9d"


@dataclass(frozen=True)
class XmpMetadata:
    """What we write: `rating` 0–5 stars, `label` (e.g. "Red"), develop settings `crs`
    (keys without prefix, e.g. {"Exposure2012": 0.5}), and `job_id`, our marker on
    files we wrote (junmai:JobId)."""

    rating: int = 0
    label: str | None = None
    crs: Mapping[str, float | str] | None = None
    job_id: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.rating <= 5:
            raise ValueError(f"rating must be 0–5 stars, not {self.rating}")


def sidecar_path(target: Path) -> Path:
    """`IMG_1.xmp` for a proprietary RAW, `IMG_1.JPG.xmp` for anything else."""
    target = Path(target)
    if target.suffix.lower() in PROPRIETARY_RAW_EXTENSIONS:
        return target.with_suffix(".xmp")
    return target.with_name(target.name + ".xmp")


def _crs_text(key: str, value: float | str) -> str:
    if isinstance(value, str):
        return value
    if key == "Exposure2012":
        return f"{value:+.2f}"
    rounded = round(value)
    if key == "Temperature" or rounded == 0:
        return str(abs(rounded) if rounded == 0 else rounded)
    return f"{rounded:+d}"


def _properties(meta: XmpMetadata) -> dict[str, str | None]:
    """Qualified name → value to set (None = remove)."""
    props: dict[str, str | None] = {
        f"{{{NS['xmp']}}}Rating": str(meta.rating),
        f"{{{NS['xmp']}}}Label": meta.label,
    }
    if meta.job_id is not None:
        props[f"{{{NS['junmai']}}}JobId"] = meta.job_id
    if meta.crs:
        settings: dict[str, float | str] = {"HasSettings": "True", **meta.crs}
        if "Temperature" in settings or "Tint" in settings:
            settings.setdefault("WhiteBalance", "Custom")
        for key, value in settings.items():
            props[f"{{{NS['crs']}}}{key}"] = _crs_text(key, value)
    return props


# Windows Explorer keeps its own percent rating beside xmp:Rating; left stale, Explorer
# would show the old stars. Updated only where it is already present.
_MS_RATING = "{http://ns.microsoft.com/photo/1.0}Rating"
_MS_PERCENT = {0: "0", 1: "1", 2: "25", 3: "50", 4: "75", 5: "99"}


def _update_windows_rating(descriptions: list[ET.Element], rating: int) -> None:
    for description in descriptions:
        if _MS_RATING in description.attrib:
            description.set(_MS_RATING, _MS_PERCENT[rating])
        for child in description.findall(_MS_RATING):
            child.text = _MS_PERCENT[rating]


def _register_prefixes(data: bytes) -> None:
    """Keep the prefixes a file uses for namespaces we do not know (instead of ns0, ns1)."""
    known = set(NS.values())
    for prefix, uri in re.findall(rb'xmlns:([A-Za-z_][\w.-]*)="([^"]*)"', data):
        name, value = prefix.decode("ascii", "replace"), uri.decode("utf-8", "replace")
        if value not in known and name not in NS and not re.fullmatch(r"ns\d+", name):
            ET.register_namespace(name, value)
            known.add(value)


def parse_xmp(data: bytes, source: str) -> ET.Element:
    """Parse an XMP packet or file; raises UnreadablePhoto naming `source` when it is not XMP.

    DOCTYPEs (and so entity tricks) are refused: XMP never has one.
    """
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise UnreadablePhoto(f"{source} is not valid XMP (it declares a DOCTYPE); left untouched")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise UnreadablePhoto(f"{source} is not valid XMP ({err}); left untouched") from err
    if root.tag not in (f"{{{NS['x']}}}xmpmeta", f"{_RDF}RDF"):
        raise UnreadablePhoto(f"{source} is not XMP (root element {root.tag}); left untouched")
    _register_prefixes(data)
    return root


def _skeleton() -> ET.Element:
    root = ET.Element(f"{{{NS['x']}}}xmpmeta", {f"{{{NS['x']}}}xmptk": "Junmai AutoDev"})
    ET.SubElement(root, f"{_RDF}RDF")
    return root


def merge_xmp(existing: bytes | None, meta: XmpMetadata, source: str = "XMP") -> bytes:
    """Return XMP (UTF-8, no packet wrapper) with `meta` set on top of `existing`."""
    root = parse_xmp(existing, source) if existing else _skeleton()
    rdf = root if root.tag == f"{_RDF}RDF" else root.find(f"{_RDF}RDF")
    if rdf is None:
        rdf = ET.SubElement(root, f"{_RDF}RDF")
    descriptions = rdf.findall(f"{_RDF}Description") or [
        ET.SubElement(rdf, f"{_RDF}Description", {f"{_RDF}about": ""})
    ]
    for name, value in _properties(meta).items():
        for description in descriptions:
            description.attrib.pop(name, None)
            for child in description.findall(name):
                description.remove(child)
        if value is not None:
            descriptions[0].set(name, value)
    _update_windows_rating(descriptions, meta.rating)
    return ET.tostring(root, encoding="utf-8", xml_declaration=False)


def write_sidecar(target: Path, meta: XmpMetadata) -> Path:
    """Write or merge the sidecar of `target` (see `sidecar_path`) atomically; returns its path."""
    path = sidecar_path(target)
    try:
        existing: bytes | None = path.read_bytes()
    except FileNotFoundError:
        existing = None
    atomic_write_bytes(path, merge_xmp(existing, meta, source=path.name) + b"\n")
    return path


def _jpeg_header_segments(data: bytes, source: str) -> tuple[list[tuple[int, int, int]], int]:
    """(marker, start, end) of each segment before the image data, and where that data starts."""
    if not data.startswith(b"\xff\xd8"):
        raise UnsupportedPhoto(f"{source} is not a JPEG: XMP can only be embedded into JPEG")
    segments: list[tuple[int, int, int]] = []
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise UnreadablePhoto(f"damaged JPEG {source}: bad marker at byte {pos:,}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end of image: header ends here
            return segments, pos
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if end > len(data):
            raise UnreadablePhoto(f"truncated JPEG {source}: a header segment runs past the end")
        segments.append((marker, pos, end))
        pos = end
    raise UnreadablePhoto(f"truncated JPEG {source}: no image data")


def _is_xmp_segment(data: bytes, marker: int, start: int) -> bool:
    return marker == 0xE1 and data.startswith(_XMP_APP1, start + 4)


def _embedded_packet(data: bytes, source: str) -> bytes | None:
    segments, _ = _jpeg_header_segments(data, source)
    for marker, start, end in segments:
        if _is_xmp_segment(data, marker, start):
            return data[start + 4 + len(_XMP_APP1) : end]
    return None


def read_embedded_xmp(path: Path) -> bytes | None:
    """The XMP packet embedded in a JPEG, or None."""
    path = Path(path)
    return _embedded_packet(path.read_bytes(), path.name)


def read_job_id(path: Path) -> str | None:
    """Our junmai:JobId in a JPEG's embedded XMP, or None (not ours, not readable, none)."""
    try:
        packet = read_embedded_xmp(path)
        if packet is None:
            return None
        root = parse_xmp(packet, Path(path).name)
    except (OSError, UnreadablePhoto, UnsupportedPhoto):
        return None
    name = f"{{{NS['junmai']}}}JobId"
    for description in root.iter(f"{_RDF}Description"):
        if name in description.attrib:
            return description.attrib[name]
        child = description.find(name)
        if child is not None and child.text:
            return child.text.strip()
    return None


def xmp_app1_packet(xml: bytes) -> bytes:
    """Wrap XMP in an xpacket with padding (so editors can update it in place)."""
    header = f'<?xpacket begin="\ufeff" id="{_PACKET_ID}"?>\n'.encode()
    padding = (b" " * 99 + b"\n") * 20
    return header + xml + b"\n" + padding + b'<?xpacket end="w"?>'


def embed_xmp(path: Path, meta: XmpMetadata) -> Path:
    """Write `meta` into the XMP of a JPEG in place (atomically), merging with what is there.

    Only the XMP APP1 segment changes; every other byte (image data, EXIF, ICC) is kept.
    TIFF, HEIC, DNG and others raise UnsupportedPhoto.
    """
    path = Path(path)
    data = path.read_bytes()
    segments, _ = _jpeg_header_segments(data, path.name)
    xmp_segments = [s for s in segments if _is_xmp_segment(data, s[0], s[1])]
    existing = (
        data[xmp_segments[0][1] + 4 + len(_XMP_APP1) : xmp_segments[0][2]] if xmp_segments else None
    )
    payload = _XMP_APP1 + xmp_app1_packet(merge_xmp(existing, meta, source=path.name))
    if len(payload) > _MAX_APP1_PAYLOAD:
        raise UnsupportedPhoto(
            f"XMP for {path.name} is {len(payload):,} bytes, more than a JPEG segment holds"
        )
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    if xmp_segments:
        _, start, end = xmp_segments[0]
    else:
        # After the leading JFIF/EXIF segments, where readers expect XMP.
        start = end = 2
        for marker, seg_start, seg_end in segments:
            if marker not in (0xE0, 0xE1) or seg_start != end:
                break
            start = end = seg_end
    atomic_write_bytes(path, data[:start] + segment + data[end:])
    return path
