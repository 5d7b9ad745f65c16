"""Numbers read the same everywhere in the window: units, rounding and N/A."""

from __future__ import annotations

import pytest

from engine.metrics import NA
from gui import format as fmt

pytestmark = pytest.mark.gui


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0 bytes"),
        (512, "512 bytes"),
        (118 * 1024**2, "118 MB"),
        (int(9.1 * 1024**3), "9.1 GB"),
        (412 * 1024**3, "412 GB"),
        (NA, "N/A"),
        (None, "N/A"),
    ],
)
def test_sizes_use_binary_units_with_one_decimal_below_ten(value, text):
    assert fmt.size(value) == text


def test_used_of_total_shares_the_unit_of_the_total():
    assert fmt.used_of(int(5.2 * 1024**3), 12 * 1024**3) == "5.2 / 12 GB"
    assert fmt.used_of(512 * 1024**2, 32 * 1024**3) == "0.5 / 32 GB"
    assert fmt.used_of(NA, 12 * 1024**3) == "N/A / 12 GB"


def test_percent_temperature_and_power_round_to_whole_numbers():
    assert fmt.percent(40.6) == "41 %"
    assert fmt.temperature(61) == "61 °C"
    assert fmt.watts(141.7) == "142 W"
    assert fmt.percent(NA) == fmt.temperature(NA) == fmt.watts(NA) == "N/A"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (12, "under a minute"),
        (170, "3 min"),
        (3600, "1 h"),
        (4800, "1 h 20 min"),
        (3 * 86400, "3 days"),
    ],
)
def test_durations_read_as_a_person_says_them(seconds, text):
    assert fmt.duration(seconds) == text


def test_ago_rate_and_count():
    assert fmt.ago(0.5) == "just now"
    assert fmt.ago(12) == "12 s ago"
    assert fmt.ago(180) == "3 min ago"
    assert fmt.rate(212.4) == "212 photos/min"
    assert fmt.rate(2.45) == "2.5 photos/min"
    assert fmt.count(1, "photo") == "1 photo"
    assert fmt.count(1040, "photo") == "1,040 photos"
