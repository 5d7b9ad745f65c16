"""The photographer's settings, persisted with QSettings, and how they become the engine's
`Settings` (the engine reads its configuration from environment-style values).

A value never saved leaves the environment's (or the engine's default) in place.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

from PySide6.QtCore import QSettings

from engine.config import REDIS_VARIABLES, RedisMode, Settings, load_settings


@dataclass(frozen=True)
class Preferences:
    """What the settings dialog edits. None = not set here (environment or default)."""

    workers: int | None = None
    redis_mode: RedisMode | None = None
    redis_url: str = ""
    data_dir: str = ""
    default_priority: str = "medium"
    default_preset: str | None = None
    auto_select: bool = False
    export_dir: str = ""  # "": "Junmai Exports" inside each shoot's folder
    export_long_edge: int | None = None  # 0: full size
    export_quality: int | None = None
    preset_amount: int | None = None  # % of the preset applied

    def _output_env(self) -> dict[str, str]:
        values = {
            "JUNMAI_EXPORT_DIR": self.export_dir.strip() or None,
            "JUNMAI_EXPORT_LONG_EDGE": self.export_long_edge,
            "JUNMAI_EXPORT_QUALITY": self.export_quality,
            "JUNMAI_PRESET_AMOUNT": self.preset_amount,
        }
        return {name: str(value) for name, value in values.items() if value is not None}

    def engine_env(self, base: Mapping[str, str]) -> dict[str, str]:
        """`base` (the environment) with these preferences applied."""
        env = dict(base)
        if self.workers is not None:
            env["JUNMAI_WORKERS"] = str(self.workers)
        if self.redis_mode is not None:
            for name in REDIS_VARIABLES:
                env.pop(name, None)
            if self.redis_mode is RedisMode.EXTERNAL:
                env["REDIS_URL"] = self.redis_url.strip()
            else:
                env["JUNMAI_REDIS"] = self.redis_mode.value
        if self.data_dir.strip():
            env["JUNMAI_DATA_DIR"] = self.data_dir.strip()
        env.update(self._output_env())
        return env

    def engine_settings(self, base: Mapping[str, str] | None = None) -> Settings:
        """The engine settings these preferences give; ConfigError names a bad value."""
        return load_settings(self.engine_env(os.environ if base is None else base))

    def with_engine_values(self, settings: Settings) -> Preferences:
        """These preferences with the engine fields filled in from running settings (what
        the dialog shows when nothing was saved yet)."""
        return replace(
            self,
            workers=self.workers if self.workers is not None else settings.workers,
            redis_mode=self.redis_mode or settings.redis_mode,
            redis_url=self.redis_url or (settings.redis_url or ""),
            data_dir=self.data_dir or str(settings.data_dir),
            export_dir=self.export_dir or str(settings.outputs.export_dir or ""),
            export_long_edge=self.export_long_edge
            if self.export_long_edge is not None
            else settings.outputs.export_long_edge or 0,
            export_quality=self.export_quality or settings.outputs.export_quality,
            preset_amount=self.preset_amount
            if self.preset_amount is not None
            else settings.outputs.preset_amount,
        )


def load_preferences(store: QSettings) -> Preferences:
    """Read saved preferences; a damaged value falls back to its default."""
    default = Preferences()
    workers = store.value("engine/workers")
    mode = store.value("engine/redis_mode")
    try:
        workers_value = int(workers) if workers not in (None, "") else None
    except (TypeError, ValueError):
        workers_value = None
    try:
        mode_value = RedisMode(mode) if mode else None
    except ValueError:
        mode_value = None
    outputs = {key: _int_or_none(store.value(f"outputs/{key}")) for key in _OUTPUT_NUMBERS}
    priority = str(store.value("submit/priority", default.default_priority))
    preset = store.value("submit/preset") or None
    return Preferences(
        workers=workers_value,
        redis_mode=mode_value,
        redis_url=str(store.value("engine/redis_url", "") or ""),
        data_dir=str(store.value("engine/data_dir", "") or ""),
        default_priority=priority if priority in ("high", "medium", "low") else "medium",
        default_preset=str(preset) if preset else None,
        auto_select=str(store.value("submit/auto_select", "false")).lower() == "true",
        export_dir=str(store.value("outputs/export_dir", "") or ""),
        **outputs,
    )


_OUTPUT_NUMBERS = ("export_long_edge", "export_quality", "preset_amount")


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def save_preferences(store: QSettings, prefs: Preferences) -> None:
    store.setValue("engine/workers", prefs.workers if prefs.workers is not None else "")
    store.setValue("engine/redis_mode", prefs.redis_mode.value if prefs.redis_mode else "")
    store.setValue("engine/redis_url", prefs.redis_url)
    store.setValue("engine/data_dir", prefs.data_dir)
    store.setValue("submit/priority", prefs.default_priority)
    store.setValue("submit/preset", prefs.default_preset or "")
    store.setValue("submit/auto_select", "true" if prefs.auto_select else "false")
    store.setValue("outputs/export_dir", prefs.export_dir)
    for key in _OUTPUT_NUMBERS:
        value = getattr(prefs, key)
        store.setValue(f"outputs/{key}", "" if value is None else value)
    store.sync()


def engine_fields_differ(a: Preferences, b: Preferences) -> bool:
    """True when switching from `a` to `b` needs the engine restarted."""
    return (a.workers, a.redis_mode, a.redis_url, a.data_dir, a._output_env()) != (
        b.workers,
        b.redis_mode,
        b.redis_url,
        b.data_dir,
        b._output_env(),
    )
