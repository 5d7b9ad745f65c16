"""The machine panel: a clear no-GPU state, and NVIDIA values with their units."""

from __future__ import annotations

import time

import pytest

from engine.metrics import NA, GpuReading, GpuSnapshot, MetricsCollector
from gui.dashboard import NO_GPU, MachinePanel
from gui.snapshot import PanelSnapshot

pytestmark = pytest.mark.gui


class FakeNvml:
    """Stands in for NVML: two GPUs, the second without a power reading (as on laptops)."""

    def read(self) -> GpuReading:
        return GpuReading(
            (
                GpuSnapshot(
                    0,
                    "NVIDIA RTX 4070",
                    "GPU-0",
                    41,
                    int(5.2 * 1024**3),
                    12 * 1024**3,
                    61,
                    142.4,
                    200.0,
                ),
                GpuSnapshot(1, "NVIDIA T400", "GPU-1", 7, 300 * 1024**2, 2 * 1024**3, 48, NA, NA),
            ),
            None,
        )


class NoGpu:
    def read(self) -> GpuReading:
        return GpuReading((), "NVML not available (no NVIDIA driver)")


def panel_for(qtbot, tmp_path, source) -> MachinePanel:
    panel = MachinePanel()
    qtbot.addWidget(panel)
    host = MetricsCollector(tmp_path, gpu_source=source).snapshot()
    panel.show_snapshot(PanelSnapshot(time.time(), host, (), None, (), (), (), None, 0.0))
    return panel


def test_no_gpu_shows_the_no_gpu_state_and_why(qtbot, tmp_path):
    panel = panel_for(qtbot, tmp_path, NoGpu())
    assert not panel.no_gpu.isHidden()
    assert NO_GPU in panel.no_gpu.text()
    assert "no NVIDIA driver" in panel.no_gpu.text()
    assert not any(row.isVisibleTo(panel) for row in panel.gpu_rows)


def test_fake_nvml_values_are_shown_with_units(qtbot, tmp_path):
    panel = panel_for(qtbot, tmp_path, FakeNvml())
    assert panel.no_gpu.isHidden()
    first, second = (row.text() for row in panel.gpu_rows)
    assert "GPU 0 NVIDIA RTX 4070" in first
    for part in ("41 %", "5.2 / 12 GB", "61 °C", "142 W"):
        assert part in first
    assert "300 MB" not in second and "0.3 / 2.0 GB" in second
    assert second.endswith("N/A")  # power this GPU cannot report
    assert panel.cpu.text() == "N/A"  # the first reading has nothing to compare with
    assert " / " in panel.ram.text() and panel.disk.text().endswith("GB")
