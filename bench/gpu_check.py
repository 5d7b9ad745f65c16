"""Check engine.metrics' NVML readings against nvidia-smi on a machine with an NVIDIA GPU.

Run from the repository root (needs only psutil and nvidia-ml-py, not the installed project):

    PYTHONPATH=. python -m bench.gpu_check

Prints both readings side by side. Exit status: 0 every value agrees within its tolerance,
1 some value disagrees, 2 there is nothing to compare (no GPU, no nvidia-smi).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

from engine.metrics import NA, GpuSnapshot, NotAvailable, NvmlSource

SMI_FIELDS = (
    "index",
    "name",
    "utilization.gpu",
    "memory.used",
    "memory.total",
    "temperature.gpu",
    "power.draw",
)
MIB = 1024**2

Number = float | NotAvailable


@dataclass(frozen=True)
class Rule:
    """How one nvidia-smi field is read from our snapshot (in nvidia-smi's unit) and compared."""

    smi_field: str
    ours: Callable[[GpuSnapshot], Number]
    agrees: Callable[[float, float], bool]
    tolerance: str


def _mib(value: int | NotAvailable) -> Number:
    return NA if value is NA else value / MIB


RULES = (
    Rule("utilization.gpu", lambda g: g.utilization_pct, lambda a, b: abs(a - b) <= 20, "±20 pts"),
    Rule(
        "memory.used", lambda g: _mib(g.memory_used_bytes), lambda a, b: abs(a - b) <= 16, "±16 MiB"
    ),
    Rule(
        "memory.total", lambda g: _mib(g.memory_total_bytes), lambda a, b: abs(a - b) <= 1, "±1 MiB"
    ),
    Rule("temperature.gpu", lambda g: g.temperature_c, lambda a, b: abs(a - b) <= 2, "±2 °C"),
    Rule("power.draw", lambda g: g.power_w, lambda a, b: abs(a - b) <= max(0.15 * b, 2.0), "±15 %"),
)


@dataclass(frozen=True)
class Check:
    """One compared value: one row of the printed table."""

    gpu: int
    field: str
    ours: object
    smi: object
    tolerance: str
    ok: bool


def read_smi() -> list[dict[str, str]]:
    """nvidia-smi's rows, one dict per GPU keyed by SMI_FIELDS; raises OSError if it fails."""
    command = [
        "nvidia-smi",
        f"--query-gpu={','.join(SMI_FIELDS)}",
        "--format=csv,noheader,nounits",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    if result.returncode != 0:
        raise OSError(f"nvidia-smi exited {result.returncode}: {result.stderr.strip()}")
    rows = csv.reader(result.stdout.splitlines(), skipinitialspace=True)
    return [dict(zip(SMI_FIELDS, row, strict=True)) for row in rows if row]


def smi_number(text: str) -> Number:
    """A numeric nvidia-smi value; "[N/A]" and "[Not Supported]" are NA."""
    try:
        return float(text)
    except ValueError:
        return NA


def compare(gpu: GpuSnapshot, row: dict[str, str]) -> list[Check]:
    """Every field of one GPU, ours against nvidia-smi's; NA agrees only with NA."""
    checks = [Check(gpu.index, "name", gpu.name, row["name"], "equal", gpu.name == row["name"])]
    for rule in RULES:
        ours, smi = rule.ours(gpu), smi_number(row[rule.smi_field])
        ok = ours is smi if ours is NA or smi is NA else rule.agrees(ours, smi)
        checks.append(Check(gpu.index, rule.smi_field, ours, smi, rule.tolerance, ok))
    return checks


def _show(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def main() -> int:
    """Read both, print the table, return the exit status."""
    gpus, note = NvmlSource().read()
    if not gpus:
        print(f"NvmlSource sees no GPU: {note}")
        return 2
    if shutil.which("nvidia-smi") is None:
        print("nvidia-smi is not on PATH: nothing to compare with")
        return 2
    try:
        smi_rows = read_smi()
    except (OSError, subprocess.TimeoutExpired) as err:
        print(f"nvidia-smi failed: {err}")
        return 2
    if len(gpus) != len(smi_rows):
        print(f"NvmlSource sees {len(gpus)} GPU(s), nvidia-smi {len(smi_rows)}")
        return 1

    checks = [check for gpu, row in zip(gpus, smi_rows, strict=True) for check in compare(gpu, row)]
    print(f"{'gpu':>3}  {'field':<16} {'ours':>26} {'nvidia-smi':>26}  {'tolerance':<9} ok")
    for c in checks:
        print(
            f"{c.gpu:>3}  {c.field:<16} {_show(c.ours):>26} {_show(c.smi):>26}  "
            f"{c.tolerance:<9} {'yes' if c.ok else 'NO'}"
        )
    failed = [c for c in checks if not c.ok]
    print(f"{len(checks) - len(failed)} of {len(checks)} values agree")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
