"""Where the application's bundled files (`resources/`) are, from a source checkout or a
PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

from engine.errors import JunmaiError


class MissingResource(JunmaiError, FileNotFoundError):
    """A bundled file is not there; the message lists what is."""


def resources_root() -> Path:
    """`resources/` beside the `engine` package, or inside the frozen bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """The path of a bundled file, e.g. `resource_path("presets", "Junmai Portrait.xmp")`.

    Raises MissingResource naming the files that do exist in that folder.
    """
    path = resources_root().joinpath(*parts)
    if path.exists():
        return path
    folder = path.parent
    available = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    listing = ", ".join(available) if available else "none"
    raise MissingResource(f"resource {'/'.join(parts)} not found in {folder}; available: {listing}")
