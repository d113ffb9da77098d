"""Settings from the environment (``HELPDESK_*``), optionally from a TOML file named by
``HELPDESK_CONFIG``. Read only by ``bootstrap`` and the CLI, never at import time."""

import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from helpdesk.domain.schedule import QuietHours, parse_duration

__all__ = ["Settings", "load_settings", "parse_duration"]


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPDESK_", extra="ignore")

    database_url: str = "sqlite:///helpdesk.db"
    knowledge_dir: Path = Path("knowledge")
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one object a line, for log shippers
    # Health and Prometheus metrics over HTTP when a port is set.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_listen: str = "127.0.0.1"

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
    scheduler_interval: Duration = timedelta(seconds=30)  # how often due actions are looked for

    # Matching thresholds on the 0-100 score; unset, the calibrated defaults of the
    # matcher in use apply (see helpdesk.matching.decision).
    match_answer_at: float | None = Field(default=None, ge=0, le=100)
    match_suggest_at: float | None = Field(default=None, ge=0, le=100)
    match_margin: float | None = Field(default=None, ge=0, le=100)
    # Semantic matching with the multilingual embedding model, when it is installed.
    semantic_matching: bool = True
    embedding_threads: int = Field(default=0, ge=0, le=64)  # 0: up to 4, as cores allow

    max_message_length: int = Field(default=4000, ge=100)
    # More than a person types, buttons included; beyond it, a polite "wait a minute".
    max_messages_per_minute: int = Field(default=40, ge=1)
    invite_valid_for: Duration = timedelta(days=30)
    # Question texts older than this many days are blanked (counts stay); 0 keeps them.
    retention_days: int = Field(default=365, ge=0)

    @field_validator("quiet_hours")
    @classmethod
    def _check_quiet_hours(cls, value: str) -> str:
        try:
            window = QuietHours.parse(value)
        except ValueError:
            raise ValueError("write quiet hours as HH:MM-HH:MM, or off") from None
        return "off" if window is None else value.strip()

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
    """Read the settings now (raises ``pydantic.ValidationError`` on bad values)."""
    config_file = os.environ.get("HELPDESK_CONFIG")
    if config_file and not Path(config_file).is_file():
        raise FileNotFoundError(f"HELPDESK_CONFIG names a missing file: {config_file}")
    return Settings(**overrides)
