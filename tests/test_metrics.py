"""engine.metrics: real psutil values, the no-driver state, and NVML through a fake binding."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import psutil
import pytest

from engine.metrics import (
    NA,
    GpuReading,
    GpuSnapshot,
    HostSnapshot,
    MetricsCollector,
    NvmlSource,
)

GIB = 1024**3


class NoGpus:
    """A GpuSource for tests that only look at CPU, RAM and disk."""

    def read(self) -> GpuReading:
        return GpuReading((), "test: no GPU")


def fake_nvml(devices: list[dict[str, Any]], init_error: str | None = None) -> ModuleType:
    """A stand-in for the pynvml module: same function names, values and error classes.

    Each device dict holds what the functions return; a value that is an exception class
    is raised instead (as NVML does for a field a GPU does not support).
    """
    nvml = ModuleType("fake_pynvml")

    class NVMLError(Exception):
        pass

    error_classes = {
        name: type(name, (NVMLError,), {})
        for name in ("NVMLError_NotSupported", "NVMLError_LibraryNotFound", "NVMLError_GpuIsLost")
    }
    calls: dict[str, int] = {"init": 0, "shutdown": 0}

    def answer(index: int, key: str) -> Any:
        value = devices[index][key]
        if isinstance(value, str) and value in error_classes:
            raise error_classes[value]()
        return value

    def nvml_init() -> None:
        calls["init"] += 1
        if init_error is not None:
            raise error_classes[init_error]()

    def get_handle(index: int) -> int:
        answer(index, "handle")
        return index

    def get_temperature(handle: int, sensor: int) -> int:
        assert sensor == nvml.NVML_TEMPERATURE_GPU
        return answer(handle, "temperature")

    def get_memory(handle: int) -> SimpleNamespace:
        used, total = answer(handle, "memory")
        return SimpleNamespace(used=used, total=total, free=total - used)

    nvml.__dict__.update(
        NVMLError=NVMLError,
        NVML_TEMPERATURE_GPU=0,
        calls=calls,
        nvmlInit=nvml_init,
        nvmlShutdown=lambda: calls.__setitem__("shutdown", calls["shutdown"] + 1),
        nvmlDeviceGetCount=lambda: len(devices),
        nvmlDeviceGetHandleByIndex=get_handle,
        nvmlDeviceGetName=lambda h: answer(h, "name"),
        nvmlDeviceGetUUID=lambda h: answer(h, "uuid"),
        nvmlDeviceGetUtilizationRates=lambda h: SimpleNamespace(gpu=answer(h, "util"), memory=5),
        nvmlDeviceGetMemoryInfo=get_memory,
        nvmlDeviceGetTemperature=get_temperature,
        nvmlDeviceGetPowerUsage=lambda h: answer(h, "power_mw"),
        nvmlDeviceGetEnforcedPowerLimit=lambda h: answer(h, "power_limit_mw"),
        **error_classes,
    )
    return nvml


def laptop_gpu(**overrides: Any) -> dict[str, Any]:
    """An older binding's laptop GPU: bytes name, power draw not supported."""
    device = {
        "handle": None,
        "name": b"NVIDIA GeForce RTX 3060 Laptop GPU",
        "uuid": b"GPU-11111111-2222-3333-4444-555555555555",
        "util": 37,
        "memory": (2 * GIB, 6 * GIB),
        "temperature": 61,
        "power_mw": "NVMLError_NotSupported",
        "power_limit_mw": 115_000,
    }
    return device | overrides


def desktop_gpu() -> dict[str, Any]:
    """A newer binding's desktop GPU: str name, every field readable."""
    return {
        "handle": None,
        "name": "NVIDIA GeForce RTX 4090",
        "uuid": "GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "util": 98,
        "memory": (20 * GIB, 24 * GIB),
        "temperature": 74,
        "power_mw": 412_345,
        "power_limit_mw": 450_000,
    }


def nvml_driver_present() -> bool:
    import pynvml

    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return False
    pynvml.nvmlShutdown()
    return True


def test_snapshot_reports_this_hosts_ram_and_the_data_dirs_disk(tmp_path: Path) -> None:
    before = time.time()
    snap = MetricsCollector(tmp_path, NoGpus()).snapshot()

    assert before <= snap.taken_at <= time.time()
    assert snap.host == socket.gethostname()
    assert snap.cpu_count == psutil.cpu_count()
    assert snap.ram_total_bytes == psutil.virtual_memory().total
    assert 0 < snap.ram_used_bytes <= snap.ram_total_bytes
    assert snap.disk_path == str(tmp_path)
    assert snap.disk_total_bytes == psutil.disk_usage(str(tmp_path)).total
    assert isinstance(snap.disk_free_bytes, int)
    assert 0 < snap.disk_free_bytes <= snap.disk_total_bytes


def test_cpu_pct_is_na_on_a_threads_first_snapshot_then_a_percentage(tmp_path: Path) -> None:
    collector = MetricsCollector(tmp_path, NoGpus())
    assert collector.snapshot().cpu_pct is NA
    time.sleep(0.05)
    cpu_pct = collector.snapshot().cpu_pct
    assert isinstance(cpu_pct, float)
    assert 0.0 <= cpu_pct <= 100.0

    on_other_thread: list[object] = []
    worker = threading.Thread(target=lambda: on_other_thread.append(collector.snapshot().cpu_pct))
    worker.start()
    worker.join()
    assert on_other_thread == [NA]


def test_disk_of_a_vanished_data_dir_is_na(tmp_path: Path) -> None:
    snap = MetricsCollector(tmp_path / "unplugged", NoGpus()).snapshot()
    assert snap.disk_free_bytes is NA
    assert snap.disk_total_bytes is NA


def test_machine_without_nvidia_driver_has_no_gpu_and_says_why(tmp_path: Path) -> None:
    if nvml_driver_present():
        pytest.skip("this machine has an NVIDIA driver")
    snap = MetricsCollector(tmp_path).snapshot()
    assert snap.gpus == ()
    assert snap.gpu_note == "NVML not available (no NVIDIA driver)"


def test_nvml_values_arrive_in_bytes_celsius_and_watts_with_na_for_unsupported() -> None:
    source = NvmlSource(fake_nvml([laptop_gpu(), desktop_gpu()]))
    gpus, note = source.read()

    assert note is None
    assert gpus == (
        GpuSnapshot(
            index=0,
            name="NVIDIA GeForce RTX 3060 Laptop GPU",
            uuid="GPU-11111111-2222-3333-4444-555555555555",
            utilization_pct=37,
            memory_used_bytes=2 * GIB,
            memory_total_bytes=6 * GIB,
            temperature_c=61,
            power_w=NA,
            power_limit_w=115.0,
        ),
        GpuSnapshot(
            index=1,
            name="NVIDIA GeForce RTX 4090",
            uuid="GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
            utilization_pct=98,
            memory_used_bytes=20 * GIB,
            memory_total_bytes=24 * GIB,
            temperature_c=74,
            power_w=412.345,
            power_limit_w=450.0,
        ),
    )


def test_nvml_starts_once_lazily_and_close_shuts_it_down() -> None:
    nvml = fake_nvml([desktop_gpu()])
    source = NvmlSource(nvml)
    assert nvml.calls == {"init": 0, "shutdown": 0}

    source.read()
    source.read()
    assert nvml.calls == {"init": 1, "shutdown": 0}

    source.close()
    source.close()
    assert nvml.calls == {"init": 1, "shutdown": 1}


def test_nvml_that_cannot_start_gives_no_gpu_and_a_note_without_retrying() -> None:
    nvml = fake_nvml([desktop_gpu()], init_error="NVMLError_LibraryNotFound")
    source = NvmlSource(nvml)

    assert source.read() == GpuReading((), "NVML not available (no NVIDIA driver)")
    assert source.read() == GpuReading((), "NVML not available (no NVIDIA driver)")
    assert nvml.calls["init"] == 1


def test_driver_without_gpus_says_so() -> None:
    assert NvmlSource(fake_nvml([])).read() == GpuReading(
        (), "NVIDIA driver found, but no NVIDIA GPU"
    )


def test_gpu_that_cannot_be_opened_is_listed_with_every_value_na() -> None:
    lost = laptop_gpu(handle="NVMLError_GpuIsLost")
    gpus, _ = NvmlSource(fake_nvml([desktop_gpu(), lost])).read()

    assert gpus[0].name == "NVIDIA GeForce RTX 4090"
    assert gpus[1] == GpuSnapshot(1, NA, NA, NA, NA, NA, NA, NA, NA)


def test_memory_used_leaves_out_driver_reserved_memory_where_nvml_v2_exists() -> None:
    nvml = fake_nvml([desktop_gpu()])
    reserved = 300 * 1024**2
    v1 = nvml.nvmlDeviceGetMemoryInfo

    def memory_info(handle: int, version: int | None = None) -> SimpleNamespace:
        info = v1(handle)
        if version == nvml.nvmlMemory_v2:
            return SimpleNamespace(used=info.used - reserved, total=info.total)
        return info

    nvml.nvmlMemory_v2 = 0x2000028
    nvml.nvmlDeviceGetMemoryInfo = memory_info
    (gpu,), _ = NvmlSource(nvml).read()

    assert gpu.memory_used_bytes == 20 * GIB - reserved
    assert gpu.memory_total_bytes == 24 * GIB


def test_snapshot_survives_a_json_round_trip_with_na_values(tmp_path: Path) -> None:
    source = NvmlSource(fake_nvml([laptop_gpu(), desktop_gpu()]))
    snap = MetricsCollector(tmp_path, source).snapshot()
    assert snap.cpu_pct is NA
    assert snap.gpus[0].power_w is NA

    wire = json.dumps(snap.to_dict())
    assert json.loads(wire)["gpus"][0]["power_w"] is None
    assert HostSnapshot.from_dict(json.loads(wire)) == snap


def test_no_gpu_snapshot_round_trip_keeps_its_note(tmp_path: Path) -> None:
    snap = MetricsCollector(tmp_path, NoGpus()).snapshot()
    again = HostSnapshot.from_dict(json.loads(json.dumps(snap.to_dict())))
    assert again == snap
    assert again.gpus == ()
    assert again.gpu_note == "test: no GPU"


def test_from_dict_names_a_missing_field(tmp_path: Path) -> None:
    data = MetricsCollector(tmp_path, NoGpus()).snapshot().to_dict()
    del data["ram_total_bytes"]
    with pytest.raises(ValueError, match="ram_total_bytes"):
        HostSnapshot.from_dict(data)


def test_na_reads_n_a() -> None:
    assert repr(NA) == str(NA) == f"{NA}" == "N/A"
