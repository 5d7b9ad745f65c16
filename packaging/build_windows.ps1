<#
.SYNOPSIS
    Build the Windows app: dist\Junmai\junmai.exe (windowed) and junmai-engine.exe (console),
    with its own Redis, then run the frozen self-test and zip the folder.

.DESCRIPTION
    Run from the repository root in PowerShell (Windows 10/11, 64-bit Python 3.11 or newer):

        powershell -ExecutionPolicy Bypass -File packaging\build_windows.ps1

    Steps: a virtual environment in .venv with the app and PyInstaller; the Windows Redis
    (packaging\fetch_windows_redis.py: download, SHA-256 check, licence texts) into
    resources\bin\; the icon (resources\icons\app.ico from app.svg); `pyinstaller junmai.spec`;
    `junmai-engine.exe --self-test`; dist\Junmai-<version>-win64.zip.

.PARAMETER NoRedis
    Build without a bundled Redis (the app then needs Memurai or a Redis: JUNMAI_REDIS=auto
    or REDIS_URL). The self-test is skipped: it tests the bundled Redis.

.PARAMETER RedisZip
    Use this already downloaded Redis zip instead of downloading it (still checksum-checked).

.PARAMETER Python
    The Python to build with (default: the `py -3` launcher's newest Python 3).
#>
param(
    [switch]$NoRedis,
    [string]$RedisZip = "",
    [string]$Python = ""
)

$ErrorActionPreference = "Stop"
Set-Location (Split-Path -Parent $PSScriptRoot)

function Invoke-Checked {
    # Run a program; stop the build when it fails (PowerShell does not, for native programs).
    param([string]$What, [string]$Exe, [string[]]$Arguments)
    Write-Host "== $What" -ForegroundColor Cyan
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE)" }
}

$started = Get-Date

# 1. Python environment -----------------------------------------------------------------------
if (-not (Test-Path ".venv\Scripts\python.exe")) {
    if ($Python) {
        Invoke-Checked "create .venv" $Python @("-m", "venv", ".venv")
    } else {
        Invoke-Checked "create .venv" "py" @("-3", "-m", "venv", ".venv")
    }
}
$py = (Resolve-Path ".venv\Scripts\python.exe").Path
Invoke-Checked "check Python (64-bit, 3.11+)" $py @("-c",
    "import struct, sys; assert sys.version_info >= (3, 11) and struct.calcsize('P') == 8, sys.version")
Invoke-Checked "install the app and PyInstaller" $py @("-m", "pip", "install", "-q", "-e", ".[package]")

# 2. Redis --------------------------------------------------------------------------------------
if ($NoRedis) {
    Write-Warning "Building WITHOUT a bundled Redis: users need Memurai or Redis 6+ (JUNMAI_REDIS=auto)."
    if (Test-Path "resources\bin") { Remove-Item -Recurse -Force "resources\bin" }
} else {
    $fetchArgs = @("packaging\fetch_windows_redis.py")
    if ($RedisZip) { $fetchArgs += @("--zip", $RedisZip) }
    Invoke-Checked "fetch the Windows Redis into resources\bin" $py $fetchArgs
}

# 3. Icon ----------------------------------------------------------------------------------------
Invoke-Checked "render resources\icons\app.ico" $py @("packaging\make_icon.py")

# 4. Build ---------------------------------------------------------------------------------------
$buildStart = Get-Date
Invoke-Checked "pyinstaller junmai.spec" $py @("-m", "PyInstaller", "--noconfirm", "--clean", "junmai.spec")
$buildSeconds = [int]((Get-Date) - $buildStart).TotalSeconds
$size = (Get-ChildItem -Recurse "dist\Junmai" | Measure-Object -Sum Length).Sum / 1MB

# 5. Self-test -----------------------------------------------------------------------------------
if (-not $NoRedis) {
    # Children must not see a developer's REDIS_URL: the self-test checks the bundled Redis.
    Remove-Item Env:REDIS_URL, Env:REDIS_HOST, Env:JUNMAI_REDIS, Env:JUNMAI_DATA_DIR -ErrorAction SilentlyContinue
    Invoke-Checked "frozen self-test" "dist\Junmai\junmai-engine.exe" @("--self-test")
}

# 6. Zip -----------------------------------------------------------------------------------------
$version = & $py -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['project']['version'])"
$zip = "dist\Junmai-$version-win64.zip"
if (Test-Path $zip) { Remove-Item -Force $zip }
Compress-Archive -Path "dist\Junmai" -DestinationPath $zip
$zipSize = (Get-Item $zip).Length / 1MB

Write-Host ("== done in {0:n0} s (PyInstaller {1} s): dist\Junmai is {2:n0} MB, {3} is {4:n0} MB" -f `
    ((Get-Date) - $started).TotalSeconds, $buildSeconds, $size, $zip, $zipSize) -ForegroundColor Green
