"""Settings from the environment (``HELPDESK_*``), optionally from a TOML file named by
``HELPDESK_CONFIG``. Read only by ``bootstrap`` and the CLI, never at import time.

A setting the helpdesk cannot use is one ``SettingsError``, worded the same for ``bot.py``
and the ``helpdesk`` command: which setting, and what is wrong with it, never its value
(tokens and passwords are settings, and a database URL holds a password)."""

import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from helpdesk.domain.limits import MAX_PHRASING_LENGTH
from helpdesk.domain.schedule import QuietHours, parse_duration
from helpdesk.storage.database import DatabaseError, async_url

__all__ = [
    "LONGEST_DURATION",
    "Settings",
    "SettingsError",
    "describe_settings_error",
    "load_settings",
    "parse_duration",
    "parse_span",
]

# Every duration is added to today's date somewhere; ten years is beyond any reminder or
# invitation and far from where dates overflow.
LONGEST_DURATION = timedelta(days=3650)
_DURATION_FORMS = "write e.g. 90s, 30m, 24h, 14d, 2w or 1h30m"


class SettingsError(Exception):
    """Settings the helpdesk cannot run with; the message never holds a setting's value."""


def parse_span(value: object, *, zero: bool = False) -> timedelta:
    """A duration as every setting and command option takes it: at most
    ``LONGEST_DURATION``, and more than nothing unless ``zero`` is allowed (a reminder
    due at once means something; an invitation that expires at once does not). The
    ``ValueError`` does not repeat the value."""
    shortest = "at least 0s" if zero else "longer than 0s"
    out_of_range = f"must be {shortest} and at most {LONGEST_DURATION.days}d"
    try:
        span = parse_duration(value)
    except OverflowError:
        raise ValueError(out_of_range) from None
    except (ValueError, TypeError):
        # parse_duration quotes what it was given: not here, where it may be anything.
        raise ValueError(f"not a duration ({_DURATION_FORMS})") from None
    if span > LONGEST_DURATION or span < timedelta(0) or (span == timedelta(0) and not zero):
        raise ValueError(out_of_range)
    return span


def _span_or_zero(value: object) -> timedelta:
    return parse_span(value, zero=True)


Duration = Annotated[timedelta, BeforeValidator(_span_or_zero)]
PositiveDuration = Annotated[timedelta, BeforeValidator(parse_span)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPDESK_", extra="ignore")

    database_url: str = "sqlite:///helpdesk.db"
    knowledge_dir: Path = Path("knowledge")
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one object a line, for log shippers
    # Health and Prometheus metrics over HTTP when a port is set.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_listen: str = "127.0.0.1"
    # The staff's web console (0: not served); its public address, used in sign-in links,
    # is HELPDESK_WEB_URL behind a reverse proxy (https there makes its cookie Secure).
    web_port: int = Field(default=8080, ge=0, le=65535)
    web_listen: str = "127.0.0.1"
    web_url: str | None = None

    telegram_token: SecretStr | None = None
    telegram_base_url: str | None = None  # a local Bot API server instead of Telegram's
    telegram_webhook_url: str | None = None  # set: webhook mode; unset: long polling
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    telegram_webhook_secret: SecretStr | None = None
    telegram_staff_chat_id: int | None = None
    matrix_homeserver: str | None = None
    matrix_user_id: str | None = None
    matrix_password: SecretStr | None = None
    matrix_access_token: SecretStr | None = None
    matrix_store_path: Path = Path("matrix-store")

    expert_reminder_after: Duration = timedelta(hours=24)
    reassign_after: Duration = timedelta(hours=48)
    followup_after: Duration = timedelta(days=14)
    quiet_hours: str = "21:00-08:00"
    digest_every: Duration = timedelta(days=7)
    # How often due actions are looked for.
    scheduler_interval: PositiveDuration = timedelta(seconds=30)

    # Matching thresholds on the 0-100 score; unset, the calibrated defaults of the
    # matcher in use apply (see helpdesk.matching.decision).
    match_answer_at: float | None = Field(default=None, ge=0, le=100)
    match_suggest_at: float | None = Field(default=None, ge=0, le=100)
    match_margin: float | None = Field(default=None, ge=0, le=100)
    # Semantic matching with the multilingual embedding model, when it is installed.
    semantic_matching: bool = True
    embedding_threads: int = Field(default=0, ge=0, le=64)  # 0: up to 4, as cores allow

    # At most a phrasing's length: a question may become one (promote, proposals).
    max_message_length: int = Field(default=4000, ge=100, le=MAX_PHRASING_LENGTH)
    # More than a person types, buttons included; beyond it, a polite "wait a minute".
    max_messages_per_minute: int = Field(default=40, ge=1)
    invite_valid_for: PositiveDuration = timedelta(days=30)
    # Question texts older than this many days are blanked (counts stay); 0 keeps them.
    retention_days: int = Field(default=365, ge=0, le=36500)

    @field_validator("quiet_hours")
    @classmethod
    def _check_quiet_hours(cls, value: str) -> str:
        try:
            window = QuietHours.parse(value)
        except ValueError:
            raise ValueError("write quiet hours as HH:MM-HH:MM, or off") from None
        return "off" if window is None else value.strip()

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        try:
            async_url(value)
        except DatabaseError as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("knowledge_dir", "matrix_store_path")
    @classmethod
    def _check_path(cls, value: Path) -> Path:
        if "\x00" in str(value):
            raise ValueError("a path cannot hold a NUL character")
        return value

    @field_validator("web_url")
    @classmethod
    def _check_web_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("http://", "https://")) or any(c.isspace() for c in value):
            raise ValueError("write the console's public address as http(s)://host[:port][/path]")
        return value.rstrip("/")

    @property
    def public_web_url(self) -> str:
        """Where people open the console: HELPDESK_WEB_URL, else the address it listens on."""
        if self.web_url is not None:
            return self.web_url
        host = f"[{self.web_listen}]" if ":" in self.web_listen else self.web_listen
        return f"http://{host}:{self.web_port}"

    @property
    def telegram_configured(self) -> bool:
        return self.telegram_token is not None

    @property
    def matrix_configured(self) -> bool:
        return bool(
            self.matrix_homeserver
            and self.matrix_user_id
            and (self.matrix_password or self.matrix_access_token)
        )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("HELPDESK_CONFIG")
        if config_file:
            # The environment wins over the file: secrets are set there in deployments.
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings now; a value the helpdesk cannot use raises ``SettingsError``."""
    config_file = os.environ.get("HELPDESK_CONFIG")
    if config_file and not Path(config_file).is_file():
        raise SettingsError(f"HELPDESK_CONFIG names a missing file: {config_file}")
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(describe_settings_error(error)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        # The parser's words give a line and column, never the text there.
        raise SettingsError(f"HELPDESK_CONFIG {config_file} is not TOML: {error}") from None
    except OSError as error:
        raise SettingsError(
            f"cannot read HELPDESK_CONFIG {config_file}: {error.strerror}"
        ) from None


def describe_settings_error(error: ValidationError) -> str:
    """One line naming each bad setting and why, from pydantic's description without the
    value it was given (its ``str()`` quotes it)."""
    problems = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        name = str(item["loc"][0]) if item["loc"] else "settings"
        reason = item["msg"].removeprefix("Value error, ")
        problems.append(f"HELPDESK_{name.upper()}: {reason}")
    return ("bad setting " if len(problems) == 1 else "bad settings: ") + "; ".join(problems)
