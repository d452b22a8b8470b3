"""Which of our locales a person reads (pure: services use it without aiogram)."""

from __future__ import annotations

from bot.config import SUPPORTED_LOCALES

_TRADITIONAL_REGIONS = ("hant", "tw", "hk", "mo")


def locale_from_telegram(language_code: str | None) -> str | None:
    """Map Telegram's IETF language tag (``zh-hans``, ``zh-TW``, ``en-US``…) onto our locales."""
    if not language_code:
        return None
    parts = language_code.replace("_", "-").lower().split("-")
    if parts[0] == "zh":
        return "zh_Hant" if any(part in _TRADITIONAL_REGIONS for part in parts[1:]) else "zh_Hans"
    if parts[0] == "en":
        return "en"
    return None


def resolve_locale(chosen: str | None, language_code: str | None, default: str) -> str:
    """The person's own choice first, then Telegram's language, then the deployment's default."""
    if chosen in SUPPORTED_LOCALES:
        return chosen
    return locale_from_telegram(language_code) or default
