"""Settings read from the environment (prefix ``CUNMIN_``) and an optional ``.env`` file.

A wrong setting must stop the program with one sentence naming the variable: the person starting
the bot is often a township clerk following the README, not a Python developer.
"""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SUPPORTED_LOCALES: tuple[str, ...] = ("zh_Hans", "zh_Hant", "en")
TELEGRAM_API_URL = "https://api.telegram.org"
# Telegram's FAQ: "not able to broadcast more than about 30 messages per second" without paid broadcasts.
FREE_BROADCAST_RATE = 30.0
# Telegram bot tokens are "<bot id>:<secret>"; the reference server rejects anything else.
_TOKEN_SHAPE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,100}$")
_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Telegram usernames: 5-32 characters of A-Z, a-z, 0-9 and _ (a bot's ends in "bot").
BOT_USERNAME_SHAPE = re.compile(r"^[A-Za-z0-9_]{5,32}$")


def default_data_dir() -> Path:
    return Path.cwd() / "data"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CUNMIN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    bot_token: SecretStr | None = None
    telegram_api_url: str = TELEGRAM_API_URL
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    timezone: str = "Asia/Shanghai"
    default_locale: str = "zh_Hans"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_path: str = "/telegram/webhook"
    log_level: str = "INFO"
    # The bot's @username without "@": invitation links are https://t.me/<bot_username>?start=<code>.
    bot_username: str | None = None
    # The outbox's pace: Telegram allows about 30 messages a second to different chats, up to
    # 1000 with paid broadcasts enabled for the bot (then set CUNMIN_PAID_BROADCAST=true too).
    paid_broadcast: bool = False
    broadcast_rate: float = Field(default=30.0, gt=0, le=1000)
    # Shown to people the bot cannot place on a roll, e.g. "乡政府民政办 0571-88888888".
    help_contact: str | None = None

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN_SHAPE.match(value.get_secret_value()):
            raise ValueError("it must look like 123456789:ABCdef… as given by @BotFather")
        return value

    @field_validator("bot_username")
    @classmethod
    def _bot_username(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        value = value.removeprefix("@")
        if not BOT_USERNAME_SHAPE.match(value):
            raise ValueError("it must be the bot's username, 5-32 characters of A-Z, a-z, 0-9 and _")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("it must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "it must start with sqlite+aiosqlite:/// or postgresql+asyncpg:// (the async drivers)"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("it must be an IANA time zone such as Asia/Shanghai") from exc
        return value

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"it must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram only accepts 1-256 characters of A-Z, a-z, 0-9, _ and - (setWebhook.secret_token).
        if value is not None and not _SECRET_SHAPE.match(value.get_secret_value()):
            raise ValueError("it must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("broadcast_rate")
    @classmethod
    def _paid_rate(cls, value: float, info: ValidationInfo) -> float:
        if value > FREE_BROADCAST_RATE and not info.data.get("paid_broadcast", False):
            raise ValueError(
                "more than 30 messages a second needs Telegram's paid broadcasts (CUNMIN_PAID_BROADCAST=true)"
            )
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'cunmin.sqlite3').resolve()}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def require_token(self) -> str:
        if self.bot_token is None:
            raise SettingsError(
                "CUNMIN_BOT_TOKEN is not set: put the token @BotFather gave you in it "
                "(or run `cunmin sandbox` to try Cunmin without one)."
            )
        return self.bot_token.get_secret_value()


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one sentence naming the variable."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"CUNMIN_{field.upper()} is not valid: {reason}.") from None
