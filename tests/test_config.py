"""Settings from the environment: defaults, the seed's Redis variables, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import DEFAULT_WORKERS, RedisMode, default_data_dir, load_settings
from engine.errors import ConfigError


def test_defaults_are_a_private_redis_and_sqlite_in_the_data_dir(tmp_path: Path):
    settings = load_settings({"JUNMAI_DATA_DIR": str(tmp_path)})
    assert settings.redis_mode is RedisMode.PRIVATE
    assert settings.redis_url is None
    assert settings.db_url == f"sqlite:///{tmp_path.resolve().as_posix()}/junmai.db"
    assert settings.workers == min(DEFAULT_WORKERS, __import__("os").cpu_count())
    assert settings.retry.max_retries == 3 and settings.limits.hard_s == 600


def test_default_data_dir_is_per_user_and_not_roaming():
    assert default_data_dir().name == "Junmai"


def test_seed_redis_variables_build_an_external_url(tmp_path: Path):
    settings = load_settings(
        {
            "JUNMAI_DATA_DIR": str(tmp_path),
            "REDIS_HOST": "studio-nas",
            "REDIS_PORT": "6380",
            "REDIS_DB": "2",
            "REDIS_PASSWORD": "p@ss word",
        }
    )
    assert settings.redis_mode is RedisMode.EXTERNAL
    assert settings.redis_url == "redis://:p%40ss%20word@studio-nas:6380/2"


def test_postgresql_url_uses_the_psycopg3_driver(tmp_path: Path):
    settings = load_settings(
        {"JUNMAI_DATA_DIR": str(tmp_path), "JUNMAI_DB_URL": "postgresql://u@db:5432/junmai"}
    )
    assert settings.db_url == "postgresql+psycopg://u@db:5432/junmai"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("JUNMAI_WORKERS", "many", "JUNMAI_WORKERS='many' is not valid: use a whole number"),
        ("JUNMAI_WORKERS", "0", "JUNMAI_WORKERS='0' is not valid"),
        ("JUNMAI_REDIS", "memurai", "JUNMAI_REDIS='memurai' is not valid: use 'private'"),
        ("REDIS_URL", "http://x", "REDIS_URL='http://x' is not valid: use redis://"),
        ("REDIS_PORT", "99999", "REDIS_PORT='99999' is not valid"),
        ("JUNMAI_DB_URL", "mysql://x", "JUNMAI_DB_URL='mysql://x' is not valid"),
        (
            "JUNMAI_RETRY_BASE_S",
            "-1",
            "JUNMAI_RETRY_BASE_S='-1' is not valid: use a number of seconds",
        ),
        ("JUNMAI_RETENTION_DAYS", "x", "use a number of days"),
        ("JUNMAI_EMBED_XMP", "maybe", "JUNMAI_EMBED_XMP='maybe' is not valid: use 1 or 0"),
    ],
)
def test_invalid_values_name_the_variable_and_the_accepted_form(tmp_path, name, value, message):
    env = {"JUNMAI_DATA_DIR": str(tmp_path), name: value}
    if name == "REDIS_PORT":
        env["REDIS_HOST"] = "localhost"
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("?", r"\?")):
        load_settings(env)


def test_workers_never_exceed_the_cores(tmp_path: Path):
    import os

    settings = load_settings({"JUNMAI_DATA_DIR": str(tmp_path), "JUNMAI_WORKERS": "64"})
    assert settings.workers == os.cpu_count()


def test_settings_round_trip_through_a_childs_environment(tmp_path: Path):
    settings = load_settings(
        {
            "JUNMAI_DATA_DIR": str(tmp_path),
            "JUNMAI_RETRY_BASE_S": "0.25",
            "JUNMAI_TASK_MODULES": "a.b, c",
            "JUNMAI_EMBED_XMP": "1",
        }
    )
    child = load_settings(settings.to_env("redis://:pw@127.0.0.1:5000/0"))
    assert child.redis_url == "redis://:pw@127.0.0.1:5000/0"
    assert child.retry == settings.retry and child.limits == settings.limits
    assert child.task_modules == ("a.b", "c") and child.embed_xmp
    assert child.data_dir == settings.data_dir and child.db_url == settings.db_url


def test_output_settings(tmp_path: Path):
    settings = load_settings(
        {
            "JUNMAI_DATA_DIR": str(tmp_path),
            "JUNMAI_EXPORT_DIR": str(tmp_path / "out"),
            "JUNMAI_EXPORT_LONG_EDGE": "2048",
            "JUNMAI_EXPORT_QUALITY": "85",
            "JUNMAI_PRESET": "Junmai Night",
            "JUNMAI_PRESET_AMOUNT": "60",
        }
    )
    outputs = settings.outputs
    assert (outputs.export_dir, outputs.export_long_edge, outputs.export_quality) == (
        tmp_path / "out",
        2048,
        85,
    )
    assert (outputs.preset, outputs.preset_amount) == ("Junmai Night", 60)
    assert load_settings(settings.to_env("redis://x")).outputs == outputs
    with pytest.raises(
        ConfigError,
        match="JUNMAI_PRESET_AMOUNT='150' is not valid: use a whole number from 0 to 100",
    ):
        load_settings({"JUNMAI_DATA_DIR": str(tmp_path), "JUNMAI_PRESET_AMOUNT": "150"})
