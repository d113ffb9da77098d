from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from helpdesk.domain.languages import (
    language_group,
    normalize_language_code,
    shares_language,
)
from helpdesk.settings import load_settings, parse_duration


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
    with pytest.raises(ValidationError):
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
