"""The live dashboard: queue depth per queue (numbers and a 10-minute chart), throughput and
the current session's ETA, and this machine's CPU, RAM, disk and NVIDIA GPUs."""

from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from engine.celery_app import QUEUES
from engine.metrics import NA, GpuSnapshot, HostSnapshot
from engine.snapshots import SessionInfo
from gui import format as fmt
from gui.history import History, current_session
from gui.snapshot import PanelSnapshot

QUEUE_LABELS = {
    "high_priority": "High",
    "medium_priority": "Medium",
    "low_priority": "Low",
    "default": "Other",
}
QUEUE_COLOURS = {
    "high_priority": "#d9480f",
    "medium_priority": "#2f6feb",
    "low_priority": "#1f9d55",
    "default": "#8a96a8",
}
NO_GPU = "No NVIDIA GPU detected"


class QueuePanel(QGroupBox):
    """Depth per queue, the chart of the last minutes, throughput and ETA."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Queue", parent)
        self.depth_labels: dict[str, QLabel] = {}
        numbers = QHBoxLayout()
        numbers.setSpacing(18)
        for queue in QUEUES:
            box = QVBoxLayout()
            box.setSpacing(0)
            value = QLabel("–")
            value.setObjectName("bigNumber")
            value.setStyleSheet(f"color: {QUEUE_COLOURS[queue]};")
            caption = QLabel(QUEUE_LABELS[queue])
            caption.setObjectName("caption")
            box.addWidget(value)
            box.addWidget(caption)
            numbers.addLayout(box)
            self.depth_labels[queue] = value
        numbers.addStretch(1)
        self.paused_badge = QLabel("Paused")
        self.paused_badge.setObjectName("pausedBadge")
        self.paused_badge.setVisible(False)
        numbers.addWidget(self.paused_badge, 0, Qt.AlignmentFlag.AlignTop)

        self.chart = pg.PlotWidget()
        self.chart.setObjectName("depthChart")
        self.chart.setMinimumHeight(110)
        self.chart.setMaximumHeight(150)
        self.chart.setBackground("#ffffff")
        self.chart.setMenuEnabled(False)
        self.chart.setMouseEnabled(x=False, y=False)
        self.chart.hideButtons()
        self.chart.setXRange(-10, 0, padding=0)
        self.chart.getPlotItem().showGrid(y=True, alpha=0.15)
        self.chart.getPlotItem().getAxis("bottom").setLabel("minutes")
        self.chart.getPlotItem().getViewBox().setLimits(yMin=0)
        self.curves = {
            q: self.chart.plot([], [], pen=pg.mkPen(QColor(QUEUE_COLOURS[q]), width=2))
            for q in QUEUES
        }

        self._chart_empty = False
        self.throughput = QLabel("–")
        self.throughput.setObjectName("throughput")
        self.progress = QLabel("No session yet: drop a folder of photos on this window.")
        self.progress.setObjectName("caption")
        self.progress.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(numbers)
        layout.addWidget(self.chart)
        layout.addWidget(self.throughput)
        layout.addWidget(self.progress)

    def show_snapshot(self, snap: PanelSnapshot, history: History) -> None:
        if snap.queue is None:
            return
        for queue, label in self.depth_labels.items():
            label.setText(f"{snap.queue.depth.get(queue, 0):,}")
        self.paused_badge.setVisible(snap.queue.paused)
        empty = snap.queue.total_depth == 0
        if not (empty and self._chart_empty):  # a flat zero line needs no redraw each second
            for queue, curve in self.curves.items():
                curve.setData(*history.depth_series(queue))
        self._chart_empty = empty
        per_min = history.photos_per_min()
        text = fmt.rate(per_min) if per_min is not None else "measuring…"
        waiting = snap.queue.total_depth
        self.throughput.setText(
            f"{text} · {fmt.count(waiting, 'job')} waiting" if waiting else text
        )
        session = current_session(snap.sessions)
        self.progress.setText(session_line(session, history) if session else "No session yet.")


def session_line(session: SessionInfo, history: History) -> str:
    """'Wedding: 812 / 1,040 photos (78 %) · done in ~3 min'."""
    share = session.settled / session.total * 100 if session.total else 100.0
    text = f"{session.name}: {session.settled:,} / {fmt.count(session.total, 'photo')} ({fmt.percent(share)})"
    if session.done:
        return f"{text} · done"
    if session.settled == session.total:
        return f"{text} · analysed; presets and exports running"
    eta = history.eta_s(session)
    return f"{text} · done in ~{fmt.duration(eta)}" if eta is not None else f"{text} · working"


class MachinePanel(QGroupBox):
    """This machine's load and its NVIDIA GPUs (or a clear "No NVIDIA GPU detected")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Machine", parent)
        self.cpu = QLabel("–")
        self.ram = QLabel("–")
        self.disk = QLabel("–")
        grid = QGridLayout()
        for row, (name, value) in enumerate(
            (("CPU", self.cpu), ("RAM", self.ram), ("Disk", self.disk))
        ):
            caption = QLabel(name)
            caption.setObjectName("caption")
            value.setObjectName("metric")
            grid.addWidget(caption, row, 0)
            grid.addWidget(value, row, 1)
        grid.setColumnStretch(1, 1)

        self.gpu_box = QVBoxLayout()
        self.gpu_box.setSpacing(2)
        self.gpu_rows: list[QLabel] = []
        self.no_gpu = QLabel(NO_GPU)
        self.no_gpu.setObjectName("noGpu")
        self.no_gpu.setWordWrap(True)
        self.no_gpu.setVisible(False)
        self.gpu_box.addWidget(self.no_gpu)

        self.others = QLabel()
        self.others.setObjectName("caption")
        self.others.setWordWrap(True)
        self.others.setVisible(False)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setObjectName("separator")
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(line)
        layout.addLayout(self.gpu_box)
        layout.addWidget(self.others)
        layout.addStretch(1)

    def show_snapshot(self, snap: PanelSnapshot) -> None:
        host = snap.host
        self.cpu.setText(fmt.percent(host.cpu_pct))
        self.ram.setText(fmt.used_of(host.ram_used_bytes, host.ram_total_bytes))
        self.disk.setText(
            f"{fmt.size(host.disk_free_bytes)} free of {fmt.size(host.disk_total_bytes)}"
        )
        self._show_gpus(host)
        if snap.other_hosts:
            self.others.setText("<br>".join(other_host_line(h) for h in snap.other_hosts))
        self.others.setVisible(bool(snap.other_hosts))

    def _show_gpus(self, host: HostSnapshot) -> None:
        no_gpu = not host.gpus
        self.no_gpu.setVisible(no_gpu)
        if no_gpu:
            note = (
                f"<br><span style='color:#8a96a8'>{html.escape(host.gpu_note)}</span>"
                if host.gpu_note
                else ""
            )
            self.no_gpu.setText(f"{NO_GPU}{note}")
        while len(self.gpu_rows) < len(host.gpus):
            label = QLabel()
            label.setObjectName("gpuRow")
            self.gpu_box.addWidget(label)
            self.gpu_rows.append(label)
        for label, gpu in zip(self.gpu_rows, host.gpus, strict=False):
            label.setText(gpu_line(gpu))
        for index, label in enumerate(self.gpu_rows):
            label.setVisible(index < len(host.gpus))


def gpu_line(gpu: GpuSnapshot) -> str:
    """'GPU 0 NVIDIA H200 · 41 % · 5.2 / 141 GB · 61 °C · 142 W'."""
    name = "" if gpu.name is NA else f" {html.escape(str(gpu.name))}"
    return (
        f"<b>GPU {gpu.index}{name}</b> · {fmt.percent(gpu.utilization_pct)} · "
        f"{fmt.used_of(gpu.memory_used_bytes, gpu.memory_total_bytes)} · "
        f"{fmt.temperature(gpu.temperature_c)} · {fmt.watts(gpu.power_w)}"
    )


def other_host_line(host: HostSnapshot) -> str:
    gpus = ", ".join(f"GPU {g.index} {fmt.percent(g.utilization_pct)}" for g in host.gpus)
    return (
        f"<b>{html.escape(host.host)}</b>: CPU {fmt.percent(host.cpu_pct)} · RAM "
        f"{fmt.used_of(host.ram_used_bytes, host.ram_total_bytes)}" + (f" · {gpus}" if gpus else "")
    )


class Dashboard(QWidget):
    """Queue on the left, machine on the right, as in the sketch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.queue = QueuePanel()
        self.machine = MachinePanel()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.queue, 3)
        layout.addWidget(self.machine, 2)

    def show_snapshot(self, snap: PanelSnapshot, history: History) -> None:
        self.queue.show_snapshot(snap, history)
        self.machine.show_snapshot(snap)
