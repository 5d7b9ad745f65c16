"""How numbers read in the window: every unit and the "N/A" of a value a machine cannot
report are decided here, so the dashboard, the tray and the tables agree."""

from __future__ import annotations

import math

from engine.metrics import NA

MISSING = "N/A"
_BYTE_UNITS = ("bytes", "KB", "MB", "GB", "TB", "PB")


def _number(value: object) -> float | None:
    """The value as a float, or None for None, `NA` and NaN (shown as "N/A")."""
    if value is None or value is NA or not isinstance(value, (int, float)):
        return None
    return None if math.isnan(value) else float(value)


def size(n: object) -> str:
    """Bytes as a person reads them: 9.1 GB, 412 GB, 118 MB, 512 bytes (powers of 1024)."""
    value = _number(n)
    if value is None:
        return MISSING
    unit = 0
    while abs(value) >= 1024 and unit < len(_BYTE_UNITS) - 1:
        value /= 1024
        unit += 1
    if unit == 0:
        return f"{int(value)} bytes"
    return (
        f"{value:.1f} {_BYTE_UNITS[unit]}"
        if abs(value) < 10
        else f"{value:.0f} {_BYTE_UNITS[unit]}"
    )


def used_of(used: object, total: object) -> str:
    """'5.2 / 12 GB': both in the unit of the total."""
    used_value = _number(used)
    if used_value is None or _number(total) is None:
        return f"{size(used)} / {size(total)}"
    total_text = size(total)
    number, _, unit = total_text.partition(" ")
    scale = 1024 ** _BYTE_UNITS.index(unit)
    used_value /= scale
    used_text = f"{used_value:.1f}" if used_value < 10 else f"{used_value:.0f}"
    return f"{used_text} / {number} {unit}"


def percent(value: object) -> str:
    """'41 %' (rounded to a whole number)."""
    v = _number(value)
    return MISSING if v is None else f"{round(v)} %"


def temperature(celsius: object) -> str:
    """'61 °C'."""
    v = _number(celsius)
    return MISSING if v is None else f"{round(v)} °C"


def watts(value: object) -> str:
    """'142 W'."""
    v = _number(value)
    return MISSING if v is None else f"{round(v)} W"


def duration(seconds: object) -> str:
    """A wait as a person says it: 'under a minute', '3 min', '1 h 20 min', '2 days'."""
    value = _number(seconds)
    if value is None:
        return MISSING
    s = max(0.0, value)
    if s < 60:
        return "under a minute"
    minutes = round(s / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{round(hours / 24)} days"


def ago(seconds: object) -> str:
    """How long since something happened: 'just now', '12 s ago', '3 min ago'."""
    value = _number(seconds)
    if value is None:
        return MISSING
    s = max(0.0, value)
    if s < 2:
        return "just now"
    if s < 60:
        return f"{int(s)} s ago"
    return f"{duration(s)} ago"


def rate(per_minute: object) -> str:
    """'212 photos/min' (one decimal below 10)."""
    value = _number(per_minute)
    if value is None:
        return MISSING
    text = f"{value:.1f}" if 0 < value < 10 else f"{value:.0f}"
    return f"{text} photos/min"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 photo', '340 photos', '1,040 photos'."""
    word = noun if n == 1 else (plural or f"{noun}s")
    return f"{n:,} {word}"
