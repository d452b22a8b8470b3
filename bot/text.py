"""Plain-text helpers for Telegram's limits (pure: no I/O)."""

from __future__ import annotations

# sendMessage.text: "1-4096 characters after entities parsing", counted in UTF-16 code units.
TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_paragraphs(text: str, limit: int) -> list[str]:
    """Cut `text` into pieces of at most `limit` UTF-16 units, at paragraph breaks where possible.

    A notice is read on an old phone: a paragraph cut in half is harder to follow than one more
    message. Only a single paragraph longer than the limit is cut inside, at a line break or, last,
    at the limit itself.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    current = ""
    for paragraph in text.strip().split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if utf16_len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = ""
        for part in _cut_long(paragraph, limit):
            if utf16_len(part) == 0:
                continue
            candidate = f"{current}\n\n{part}" if current else part
            if utf16_len(candidate) <= limit:
                current = candidate
            else:
                pieces.append(current)
                current = part
    if current:
        pieces.append(current)
    return pieces


def _cut_long(paragraph: str, limit: int) -> list[str]:
    if utf16_len(paragraph) <= limit:
        return [paragraph]
    parts: list[str] = []
    line_buffer = ""
    for line in paragraph.split("\n"):
        candidate = f"{line_buffer}\n{line}" if line_buffer else line
        if utf16_len(candidate) <= limit:
            line_buffer = candidate
            continue
        if line_buffer:
            parts.append(line_buffer)
        while utf16_len(line) > limit:
            head = _prefix_within(line, limit)
            parts.append(head)
            line = line[len(head) :]
        line_buffer = line
    if line_buffer:
        parts.append(line_buffer)
    return parts


def _prefix_within(text: str, limit: int) -> str:
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text
