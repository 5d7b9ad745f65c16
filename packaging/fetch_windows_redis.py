"""Fetch the Windows Redis the frozen app ships: redis-server.exe and the MSYS2 DLLs it needs,
plus licence texts, into resources/bin/ (ignored by git: never committed).

    python packaging/fetch_windows_redis.py                # download, verify, install
    python packaging/fetch_windows_redis.py --zip FILE --license COPYING   # offline
    python packaging/fetch_windows_redis.py --print-sha256 FILE   # hash a zip to pin it

Source: the redis-windows/redis-windows project's MSYS2 build of Redis 7.2 (the last
BSD-3-Clause line of Redis; 7.4 and later are not BSD). An unofficial community build: the
download is only used when its SHA-256 matches the pinned value below.

Pinned checksum: taken from a public manifest that pins the same asset; it has NOT been
checked here (this machine cannot reach GitHub). On the Windows build machine, before the
first release: compare REDIS_SHA256 with the "Hashes" section of the release page
https://github.com/redis-windows/redis-windows/releases/tag/7.2.8 (and with
`--print-sha256` of the file you downloaded); if they differ, stop and find out why.

Stdlib only, so it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / "resources" / "bin"

REDIS_VERSION = "7.2.8"
REDIS_ZIP = f"Redis-{REDIS_VERSION}-Windows-x64-msys2.zip"
REDIS_URL = (
    f"https://github.com/redis-windows/redis-windows/releases/download/{REDIS_VERSION}/{REDIS_ZIP}"
)
REDIS_SHA256 = "aa6d4206a08d1189dd7a57c78201540a53b12350e1ad09ee7caca04120600656"
# Redis's own licence text for that version (the build zip does not carry it).
REDIS_LICENSE_URL = f"https://raw.githubusercontent.com/redis/redis/{REDIS_VERSION}/COPYING"
SERVER = "redis-server.exe"
MARKER = "VERSION.txt"  # what we installed, so a second run can skip the download

NOTICE = """\
Third-party software in this folder
===================================

redis-server.exe  Redis {version} (https://redis.io), BSD 3-Clause licence: see
                  REDIS-COPYING.txt. Windows build by the redis-windows project
                  (https://github.com/redis-windows/redis-windows), compiled with MSYS2;
                  downloaded from {url}
                  SHA-256 of the archive: {sha256}

msys-2.0.dll      The MSYS2 runtime (a fork of the Cygwin runtime), LGPL-3.0-or-later with
                  the Cygwin linking exception. Source: https://github.com/msys2/msys2-runtime

msys-crypto-3.dll, msys-ssl-3.dll (when present)
                  OpenSSL 3, Apache License 2.0 (https://www.openssl.org/source/license.html).

msys-gcc_s-*.dll, msys-stdc++-6.dll (when present)
                  GCC runtime libraries, GPL-3.0 with the GCC Runtime Library Exception.

Junmai starts redis-server.exe as a separate program, bound to 127.0.0.1 with a password,
only while the app runs.
"""


class FetchError(Exception):
    """The download or the archive is not what we pinned; the message says what differs."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, target: Path) -> None:
    print(f"downloading {url}")
    request = urllib.request.Request(url, headers={"User-Agent": "junmai-build"})
    with urllib.request.urlopen(request, timeout=120) as response, open(target, "wb") as out:
        shutil.copyfileobj(response, out)


def verify(path: Path, expected: str) -> None:
    actual = sha256_of(path)
    if actual.lower() != expected.lower():
        raise FetchError(
            f"{path.name}: SHA-256 {actual} does not match the pinned {expected}. "
            "Do not ship it: check the release page's hashes (see this script's docstring)."
        )


def server_folder(archive: zipfile.ZipFile) -> PurePosixPath:
    """The folder inside the zip that holds redis-server.exe."""
    hits = [PurePosixPath(n) for n in archive.namelist() if PurePosixPath(n).name.lower() == SERVER]
    if len(hits) != 1:
        raise FetchError(f"expected one {SERVER} in the archive, found {len(hits)}")
    return hits[0].parent


def install_from_zip(zip_path: Path, dest: Path, *, license_text: str | None = None) -> list[str]:
    """Put redis-server.exe, the DLLs beside it and the licence texts into dest (replacing
    what was there). Returns the names installed."""
    with zipfile.ZipFile(zip_path) as archive:
        folder = server_folder(archive)
        wanted = [
            PurePosixPath(n)
            for n in archive.namelist()
            if PurePosixPath(n).parent == folder
            and (
                PurePosixPath(n).name.lower() == SERVER or PurePosixPath(n).suffix.lower() == ".dll"
            )
        ]
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        for member in wanted:
            with archive.open(str(member)) as src, open(dest / member.name, "wb") as out:
                shutil.copyfileobj(src, out)
    installed = sorted(m.name for m in wanted)
    if not any(n.lower().startswith("msys-2.0") for n in installed):
        raise FetchError("the archive has no msys-2.0.dll beside redis-server.exe")
    if license_text is not None:
        (dest / "REDIS-COPYING.txt").write_text(license_text, encoding="utf-8")
    (dest / "THIRD-PARTY-NOTICES.txt").write_text(
        NOTICE.format(version=REDIS_VERSION, url=REDIS_URL, sha256=sha256_of(zip_path)),
        encoding="utf-8",
    )
    (dest / MARKER).write_text(f"{REDIS_VERSION} {sha256_of(zip_path)}\n", encoding="utf-8")
    return installed


def check_server(dest: Path) -> str:
    """Run `redis-server.exe --version` (Windows only) and check it is the pinned version."""
    out = subprocess.run(
        [str(dest / SERVER), "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    text = (out.stdout or out.stderr).strip()
    if f"v={REDIS_VERSION}" not in text:
        raise FetchError(f"{SERVER} --version says {text!r}, expected v={REDIS_VERSION}")
    return text


def installed_version(dest: Path) -> str | None:
    try:
        return (dest / MARKER).read_text("utf-8").split()[0]
    except (OSError, IndexError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zip", type=Path, help="install from this zip instead of downloading")
    parser.add_argument("--license", type=Path, help="Redis's COPYING, instead of downloading")
    parser.add_argument("--dest", type=Path, default=DEST)
    parser.add_argument("--sha256", default=REDIS_SHA256, help="expected SHA-256 of the zip")
    parser.add_argument("--print-sha256", type=Path, metavar="FILE", help="print a file's hash")
    parser.add_argument("--force", action="store_true", help="reinstall even if present")
    args = parser.parse_args(argv)

    if args.print_sha256:
        print(sha256_of(args.print_sha256))
        return 0
    if not args.force and args.zip is None and installed_version(args.dest) == REDIS_VERSION:
        print(f"Redis {REDIS_VERSION} already in {args.dest}")
        return 0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            zip_path = args.zip
            if zip_path is None:
                zip_path = Path(tmp) / REDIS_ZIP
                download(REDIS_URL, zip_path)
            verify(zip_path, args.sha256)
            license_path = args.license
            if license_path is None:
                license_path = Path(tmp) / "COPYING"
                try:
                    download(REDIS_LICENSE_URL, license_path)
                except OSError as exc:
                    raise FetchError(
                        f"could not fetch Redis's licence text ({exc}); it must ship with the "
                        "binary: pass --license FILE (COPYING of the Redis source)"
                    ) from exc
            license_text = license_path.read_text("utf-8")
            if "Redistribution and use in source and binary forms" not in license_text:
                raise FetchError(f"{license_path} does not look like Redis's BSD licence")
            names = install_from_zip(zip_path, args.dest, license_text=license_text)
        print(f"installed into {args.dest}: {', '.join(names)}")
        if sys.platform == "win32":
            print(check_server(args.dest))
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
