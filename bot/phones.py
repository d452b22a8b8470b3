"""Phone numbers in one form (E.164), whatever way a villager or a spreadsheet wrote them."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "CN"


def normalize_phone(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """E.164 (``+8613800138000``) for a valid number, None for anything else.

    Telegram sends contacts with or without "+" and country code; rolls carry "138 0013 8000",
    "+86-138…" or "0086…". All of them must compare equal.
    """
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text[0].isdigit() and len(text) > 11 and text.startswith("86"):
        text = "+" + text  # Telegram contacts carry the country code without "+"
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """What people outside the village's committee see: +86 138****8000."""
    if len(e164) < 8:
        return "****"
    return f"{e164[:-8]}****{e164[-4:]}"


def normalize_contact_phone(raw: str | None) -> str | None:
    """A phone from a Telegram contact: always international, often without the leading "+"."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    # Contact cards from an address book may still be written the local way: try that second.
    return normalize_phone(text if text.startswith("+") else "+" + text) or normalize_phone(text)
