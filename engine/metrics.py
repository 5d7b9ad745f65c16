"""This host's load: one timestamped `HostSnapshot` of CPU, RAM, disk (psutil) and NVIDIA GPUs.

The only module that imports the NVML binding (`pynvml`, from nvidia-ml-py). A value that
cannot be read is the marker `NA`, never `None` and never an exception; a machine without an
NVIDIA driver has `gpus == ()` and a `gpu_note` saying why.
"""

from __future__ import annotations

import atexit
import contextlib
import enum
import os
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import ModuleType
from typing import Any, Final, NamedTuple, Protocol

import psutil


class NotAvailable(enum.Enum):
    """Type of `NA`: a value this machine cannot report (power on many laptops, say).

    A one-member enum, so `value is NA` narrows `int | NotAvailable` to `int` for mypy, and
    copies and pickles stay the same object.
    """

    NA = "N/A"

    def __repr__(self) -> str:
        return "N/A"

    __str__ = __repr__


NA: Final = NotAvailable.NA


@dataclass(frozen=True)
class GpuSnapshot:
    """One NVIDIA GPU as NVML saw it in one batch of calls; units are in the field names."""

    index: int
    name: str | NotAvailable
    uuid: str | NotAvailable
    utilization_pct: int | NotAvailable
    memory_used_bytes: int | NotAvailable
    memory_total_bytes: int | NotAvailable
    temperature_c: int | NotAvailable
    power_w: float | NotAvailable
    power_limit_w: float | NotAvailable

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; `NA` becomes `None`."""
        return {f.name: _encode(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GpuSnapshot:
        """Inverse of `to_dict`; unknown keys are ignored, a missing one is a `ValueError`."""
        return cls(**{f.name: _decode(_field(data, f.name, cls)) for f in fields(cls)})


class GpuReading(NamedTuple):
    """What a `GpuSource` returns: the GPUs, and why there are none when `gpus` is empty."""

    gpus: tuple[GpuSnapshot, ...]
    note: str | None


@dataclass(frozen=True)
class HostSnapshot:
    """This host's load at `taken_at` (epoch seconds), built from one batch of calls.

    `ram_used_bytes` is total minus available (what Task Manager calls "in use");
    `disk_*` describe the disk holding `disk_path`. `gpus == ()` means "No NVIDIA GPU",
    and `gpu_note` then says why.
    """

    host: str
    taken_at: float
    cpu_pct: float | NotAvailable
    cpu_count: int | NotAvailable
    ram_used_bytes: int
    ram_total_bytes: int
    disk_free_bytes: int | NotAvailable
    disk_total_bytes: int | NotAvailable
    disk_path: str
    gpus: tuple[GpuSnapshot, ...]
    gpu_note: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (for Redis); `NA` becomes `None`, `gpus` a list of dicts."""
        data = {f.name: _encode(getattr(self, f.name)) for f in fields(self)}
        data["gpus"] = [gpu.to_dict() for gpu in self.gpus]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HostSnapshot:
        """Inverse of `to_dict`; unknown keys are ignored, a missing one is a `ValueError`."""
        values = {f.name: _decode(_field(data, f.name, cls)) for f in fields(cls)}
        values["gpus"] = tuple(GpuSnapshot.from_dict(gpu) for gpu in data["gpus"])
        values["gpu_note"] = data["gpu_note"]
        return cls(**values)


def _encode(value: Any) -> Any:
    return None if value is NA else value


def _decode(value: Any) -> Any:
    return NA if value is None else value


def _field(data: Mapping[str, Any], name: str, cls: type) -> Any:
    try:
        return data[name]
    except KeyError:
        raise ValueError(f"{cls.__name__} data lacks {name!r}") from None


class GpuSource(Protocol):
    """Where GPU readings come from; tests pass a fake to `MetricsCollector`."""

    def read(self) -> GpuReading:
        """Every GPU's values now; never raises."""
        ...


class NvmlSource:
    """GPU readings through NVML, started lazily under a lock and shut down at exit.

    `nvml` is the binding module (default: `pynvml`, imported on first read); tests pass
    a fake with the same functions. Every device call goes through `_query`, which
    returns `NA` instead of raising. If NVML cannot start (no driver, no library) that is
    remembered: every read then gives zero GPUs and the same note.
    """

    def __init__(self, nvml: ModuleType | None = None) -> None:
        self._nvml = nvml
        self._lock = threading.Lock()
        self._started = False
        self._start_failure: str | None = None

    def read(self) -> GpuReading:
        """Every GPU's values now, or zero GPUs and a note saying why."""
        with self._lock:
            failure = self._start()
            if failure is not None:
                return GpuReading((), failure)
            nvml = self._module()
            try:
                count = int(nvml.nvmlDeviceGetCount())
            except nvml.NVMLError as err:
                return GpuReading((), f"NVML could not count the GPUs: {err}")
            if count == 0:
                return GpuReading((), "NVIDIA driver found, but no NVIDIA GPU")
            return GpuReading(tuple(self._gpu(index) for index in range(count)), None)

    def close(self) -> None:
        """Shut NVML down (also run at exit); a later `read` starts it again."""
        with self._lock:
            if not self._started:
                return
            self._started = False
            atexit.unregister(self.close)
            nvml = self._module()
            with contextlib.suppress(nvml.NVMLError):  # already gone: nothing to release
                nvml.nvmlShutdown()

    def _module(self) -> ModuleType:
        if self._nvml is None:
            import pynvml

            self._nvml = pynvml
        return self._nvml

    def _start(self) -> str | None:
        """Start NVML once; return why it cannot start, or None. Caller holds the lock."""
        if self._started or self._start_failure is not None:
            return self._start_failure
        try:
            nvml = self._module()
        except ImportError:
            self._start_failure = "NVML not available (nvidia-ml-py is not installed)"
            return self._start_failure
        try:
            nvml.nvmlInit()
        except nvml.NVMLError as err:
            self._start_failure = _start_failure_note(nvml, err)
            return self._start_failure
        self._started = True
        atexit.register(self.close)
        return None

    def _query(self, function: str, *args: Any, **kwargs: Any) -> Any:
        """Call `nvml.<function>`; `NA` if the binding lacks it or NVML refuses."""
        nvml = self._module()
        call = getattr(nvml, function, None)
        if call is None:
            return NA
        try:
            return call(*args, **kwargs)
        except nvml.NVMLError:
            return NA

    def _gpu(self, index: int) -> GpuSnapshot:
        handle = self._query("nvmlDeviceGetHandleByIndex", index)
        if handle is NA:
            return GpuSnapshot(index, NA, NA, NA, NA, NA, NA, NA, NA)
        utilization = self._query("nvmlDeviceGetUtilizationRates", handle)
        memory = self._memory(handle)
        return GpuSnapshot(
            index=index,
            name=_text(self._query("nvmlDeviceGetName", handle)),
            uuid=_text(self._query("nvmlDeviceGetUUID", handle)),
            utilization_pct=NA if utilization is NA else int(utilization.gpu),
            memory_used_bytes=NA if memory is NA else int(memory.used),
            memory_total_bytes=NA if memory is NA else int(memory.total),
            temperature_c=self._temperature(handle),
            power_w=_watts(self._query("nvmlDeviceGetPowerUsage", handle)),
            power_limit_w=_watts(self._query("nvmlDeviceGetEnforcedPowerLimit", handle)),
        )

    def _memory(self, handle: Any) -> Any:
        """Memory info, v2 where driver and binding have it: its `used` leaves out the
        driver's reserved memory, as nvidia-smi's memory.used does; else v1."""
        version = getattr(self._module(), "nvmlMemory_v2", None)
        if version is not None:
            memory = self._query("nvmlDeviceGetMemoryInfo", handle, version=version)
            if memory is not NA:
                return memory
        return self._query("nvmlDeviceGetMemoryInfo", handle)

    def _temperature(self, handle: Any) -> int | NotAvailable:
        """GPU core °C: nvmlDeviceGetTemperatureV where the driver has it (the older call
        is deprecated), else nvmlDeviceGetTemperature."""
        sensor = self._module().NVML_TEMPERATURE_GPU
        celsius = self._query("nvmlDeviceGetTemperatureV", handle, sensor)
        if celsius is NA:
            celsius = self._query("nvmlDeviceGetTemperature", handle, sensor)
        return NA if celsius is NA else int(celsius)


def _start_failure_note(nvml: ModuleType, err: Exception) -> str:
    """The photographer-readable reason NVML did not start."""
    notes = {
        "NVMLError_LibraryNotFound": "NVML not available (no NVIDIA driver)",
        "NVMLError_DriverNotLoaded": "NVIDIA driver installed but not loaded",
        "NVMLError_NoPermission": "No permission to read the NVIDIA driver",
    }
    for class_name, note in notes.items():
        error_class = getattr(nvml, class_name, None)
        if error_class is not None and isinstance(err, error_class):
            return note
    return f"NVML failed to start: {err}"


def _text(value: Any) -> str | NotAvailable:
    """A name or UUID: str from newer bindings, bytes from older ones."""
    if value is NA:
        return NA
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _watts(milliwatts: Any) -> float | NotAvailable:
    return NA if milliwatts is NA else int(milliwatts) / 1000.0


class MetricsCollector:
    """Builds this host's `HostSnapshot`; keep one and call `snapshot()` periodically.

    `cpu_pct` comes from `psutil.cpu_percent(interval=None)`: it never blocks, and it
    measures the time since the previous call *on the same thread*. The first snapshot a
    collector takes on a thread has no earlier sample to compare with, so its `cpu_pct`
    is `NA` (psutil's own answer would be a meaningless 0.0); that call primes psutil.
    """

    def __init__(self, disk_path: str | os.PathLike[str], gpu_source: GpuSource | None = None):
        self._disk_path = os.path.abspath(disk_path)
        self._gpu_source: GpuSource = gpu_source if gpu_source is not None else NvmlSource()
        self._primed = threading.local()

    def snapshot(self) -> HostSnapshot:
        """One batch of readings, stamped with the time the batch started."""
        taken_at = time.time()
        cpu_pct: float | NotAvailable = psutil.cpu_percent(interval=None)
        if not getattr(self._primed, "done", False):
            self._primed.done = True
            cpu_pct = NA
        cpu_count = psutil.cpu_count(logical=True)
        ram = psutil.virtual_memory()
        disk_free: int | NotAvailable = NA
        disk_total: int | NotAvailable = NA
        try:
            disk = psutil.disk_usage(self._disk_path)
            disk_free, disk_total = int(disk.free), int(disk.total)
        except OSError:
            pass  # the data dir's disk is gone (an unplugged drive, a lost share): N/A.
        reading = self._gpu_source.read()
        return HostSnapshot(
            host=socket.gethostname(),
            taken_at=taken_at,
            cpu_pct=cpu_pct,
            cpu_count=NA if cpu_count is None else cpu_count,
            ram_used_bytes=int(ram.total - ram.available),
            ram_total_bytes=int(ram.total),
            disk_free_bytes=disk_free,
            disk_total_bytes=disk_total,
            disk_path=self._disk_path,
            gpus=reading.gpus,
            gpu_note=reading.note,
        )
