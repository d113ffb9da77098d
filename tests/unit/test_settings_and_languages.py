from datetime import timedelta
from pathlib import Path

import pytest

from helpdesk.domain.languages import (
    language_group,
    normalize_language_code,
    shares_language,
)
from helpdesk.settings import Settings, SettingsError, load_settings, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("24h", timedelta(hours=24)),
        ("14d", timedelta(days=14)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(minutes=90)),
        (" 1d 12h ", timedelta(hours=36)),
        (60, timedelta(minutes=1)),
    ],
)
def test_durations(text: str | int, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "10", "5 minutes", "-3h", "1y"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv("HELPDESK_REASSIGN_AFTER", "90s")
    monkeypatch.setenv("HELPDESK_QUIET_HOURS", "off")
    monkeypatch.setenv("HELPDESK_TELEGRAM_TOKEN", "123:hush-hush")
    monkeypatch.setenv("HELPDESK_TELEGRAM_WEBHOOK_SECRET", "very-private")
    settings = load_settings()
    assert settings.database_url == "sqlite:///x.db"
    assert settings.reassign_after == timedelta(seconds=90)
    assert settings.quiet_hours == "off"
    assert settings.telegram_configured
    assert "hush-hush" not in repr(settings) and "very-private" not in repr(settings)


def test_settings_from_a_config_file_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "helpdesk.toml"
    config.write_text('database_url = "sqlite:///file.db"\nfollowup_after = "7d"\n')
    monkeypatch.setenv("HELPDESK_CONFIG", str(config))
    monkeypatch.setenv("HELPDESK_FOLLOWUP_AFTER", "3d")
    settings = load_settings()
    assert settings.database_url == "sqlite:///file.db"
    assert settings.followup_after == timedelta(days=3)


def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_QUIET_HOURS", "late")
    with pytest.raises(SettingsError, match="HELPDESK_QUIET_HOURS: write quiet hours as"):
        load_settings()


SECRET = "SECRETPW"


def test_a_settings_error_names_every_bad_setting_and_never_a_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HELPDESK_CONFIG", raising=False)
    for name in Settings.model_fields:
        monkeypatch.setenv(f"HELPDESK_{name.upper()}", f"{SECRET}-{name}")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert SECRET not in message and "\n" not in message
    # Every setting that is not free text is named, the database URL among them.
    for name in ("database_url", "metrics_port", "reassign_after", "quiet_hours", "log_format"):
        assert f"HELPDESK_{name.upper()}: " in message, message


def test_a_secret_of_the_wrong_type_in_the_config_file_is_not_quoted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "helpdesk.toml"
    config.write_text('telegram_token = 918273645\nmatrix_password = ["hunter2"]\n')
    monkeypatch.setenv("HELPDESK_CONFIG", str(config))
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert "HELPDESK_TELEGRAM_TOKEN: " in message and "HELPDESK_MATRIX_PASSWORD: " in message
    assert "918273645" not in message and "hunter2" not in message


@pytest.mark.parametrize("text", ['telegram_token = "12', "\xff\xfe = 1"])
def test_a_config_file_that_is_not_toml_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str
) -> None:
    config = tmp_path / "helpdesk.toml"
    config.write_bytes(text.encode("latin-1"))
    monkeypatch.setenv("HELPDESK_CONFIG", str(config))
    with pytest.raises(SettingsError, match=f"HELPDESK_CONFIG {config} is not TOML") as raised:
        load_settings()
    assert "\n" not in str(raised.value)


def test_a_reminder_may_be_due_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELPDESK_CONFIG", raising=False)
    monkeypatch.setenv("HELPDESK_EXPERT_REMINDER_AFTER", "0s")
    assert load_settings().expert_reminder_after == timedelta(0)


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("HELPDESK_INVITE_VALID_FOR", "0s", "must be longer than 0s and at most 3650d"),
        ("HELPDESK_SCHEDULER_INTERVAL", "0s", "must be longer than 0s"),
        ("HELPDESK_REASSIGN_AFTER", "-1s", "not a duration"),
        ("HELPDESK_INVITE_VALID_FOR", "99999999999999d", "must be longer than 0s"),
        ("HELPDESK_REASSIGN_AFTER", "99999999999999d", "must be at least 0s and at most 3650d"),
        ("HELPDESK_FOLLOWUP_AFTER", "3651d", "at most 3650d"),
        ("HELPDESK_RETENTION_DAYS", "99999999999", "less than or equal to 36500"),
        ("HELPDESK_MAX_MESSAGE_LENGTH", "4001", "less than or equal to 4000"),
    ],
)
def test_values_that_would_overflow_or_mean_nothing_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, reason: str
) -> None:
    monkeypatch.delenv("HELPDESK_CONFIG", raising=False)
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"^bad setting {name}: .*{reason}"):
        load_settings()


@pytest.mark.parametrize(
    ("code", "canonical"),
    [
        ("en", "en"),
        ("SR_latn", "sr-Latn"),
        ("sr-Cyrl-RS", "sr-Cyrl-RS"),
        ("me", "cnr"),
        ("mk", "mk"),
        ("not a code", None),
        ("", None),
        ("x", None),
    ],
)
def test_language_codes(code: str, canonical: str | None) -> None:
    assert normalize_language_code(code) == canonical


def test_language_groups() -> None:
    assert language_group("hr") == language_group("sr-Latn") == language_group("cnr")
    assert language_group("mk") == "mk"
    assert shares_language(("bs",), ("sr",))
    assert not shares_language(("mk",), ("sq", "en"))
