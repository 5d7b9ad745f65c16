"""Render resources/icons/app.svg into the files a Windows build needs: app.ico (16-256 px,
the executable's and the installer's icon) and app.png (256 px, for Linux desktop files).

    python packaging/make_icon.py            # writes resources/icons/app.ico and app.png
    python packaging/make_icon.py --check    # exit 1 if they are missing or older than the SVG

Uses Qt's SVG renderer (offscreen, no display needed) and Pillow's ICO writer.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
SVG, ICO, PNG = ICONS / "app.svg", ICONS / "app.ico", ICONS / "app.png"
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 128, 256)


def up_to_date() -> bool:
    return all(p.exists() and p.stat().st_mtime >= SVG.stat().st_mtime for p in (ICO, PNG))


def render(size: int = 256) -> bytes:
    """The SVG as a transparent size x size PNG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(["make_icon"])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"not a valid SVG: {SVG}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, b"PNG")
    return bytes(data.data())


def main(argv: list[str]) -> int:
    if "--check" in argv:
        if up_to_date():
            return 0
        print(f"{ICO.name}/{PNG.name} missing or older than {SVG.name}: run {__file__}")
        return 1
    import io

    from PIL import Image

    png = render(256)
    PNG.write_bytes(png)
    Image.open(io.BytesIO(png)).save(ICO, format="ICO", sizes=[(s, s) for s in ICO_SIZES])
    print(f"wrote {ICO} ({ICO.stat().st_size} bytes) and {PNG}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
