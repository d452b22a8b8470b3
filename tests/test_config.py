from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("BOT_TOKEN", "DATABASE_URL", "TIMEZONE", "DEFAULT_LOCALE", "TELEGRAM_API_URL"):
        monkeypatch.delenv(f"CUNMIN_{name}", raising=False)


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.timezone == "Asia/Shanghai"
    assert settings.default_locale == "zh_Hans"
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'cunmin.sqlite3'}"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CUNMIN_DEFAULT_LOCALE=en\nCUNMIN_BOT_TOKEN=42:abc\n", encoding="utf-8")
    settings = load_settings()
    assert settings.default_locale == "en"
    assert settings.require_token() == "42:abc"


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("CUNMIN_BOT_TOKEN", "not-a-token", "CUNMIN_BOT_TOKEN"),
        ("CUNMIN_TIMEZONE", "Mars/Olympus", "CUNMIN_TIMEZONE"),
        ("CUNMIN_DEFAULT_LOCALE", "fr", "CUNMIN_DEFAULT_LOCALE"),
        ("CUNMIN_DATABASE_URL", "mysql://x", "CUNMIN_DATABASE_URL"),
        ("CUNMIN_TELEGRAM_API_URL", "ftp://x", "CUNMIN_TELEGRAM_API_URL"),
        ("CUNMIN_WEBHOOK_PORT", "seventy", "CUNMIN_WEBHOOK_PORT"),
        ("CUNMIN_WEBHOOK_SECRET", "has spaces", "CUNMIN_WEBHOOK_SECRET"),
        ("CUNMIN_BROADCAST_RATE", "100", "CUNMIN_BROADCAST_RATE"),
        ("CUNMIN_BROADCAST_RATE", "-1", "CUNMIN_BROADCAST_RATE"),
    ],
)
def test_a_malformed_setting_is_one_sentence_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(named + " is not valid: ")
    assert "\n" not in message


def test_paid_broadcasts_allow_a_higher_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUNMIN_PAID_BROADCAST", "true")
    monkeypatch.setenv("CUNMIN_BROADCAST_RATE", "1000")
    assert load_settings().broadcast_rate == 1000


def test_missing_token_names_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"^CUNMIN_BOT_TOKEN is not set"):
        load_settings().require_token()
