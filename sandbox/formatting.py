"""Telegram text formatting: UTF-16 lengths and the HTML / MarkdownV2 / Markdown entity parsers.

Telegram measures every text limit ("1-4096 characters after entities parsing") on the text that
remains *after* the markup has been turned into ``MessageEntity`` objects, and it counts in UTF-16
code units. A validator that measured the raw HTML would reject valid messages near the limit and,
worse, accept invalid ones, so the emulator parses the markup the way TDLib does and reports
malformed markup with TDLib's ``can't parse entities: ...`` wording.

The parsers cover the documented subset (https://core.telegram.org/bots/api#formatting-options).
They are deliberately strict: whatever the real server rejects should be rejected here, too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "EntityParseError",
    "ParsedText",
    "parse_entities",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "utf16_len",
]

PARSE_MODES = ("html", "markdownv2", "markdown")


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


class EntityParseError(ValueError):
    """Malformed markup; ``str(error)`` is TDLib's text that follows "can't parse entities: "."""


@dataclass(frozen=True)
class ParsedText:
    """Plain text plus the entities that the markup described (offsets in UTF-16 code units)."""

    text: str
    entities: tuple[dict[str, Any], ...]


def parse_entities(text: str, parse_mode: str | None) -> ParsedText:
    """Parse ``text`` according to ``parse_mode`` (case-insensitive, ``None`` for plain text).

    Raises ``EntityParseError`` for malformed markup and ``ValueError`` for an unknown parse mode.
    The result is stripped of leading and trailing whitespace like the server does.
    """
    if parse_mode is None or parse_mode == "":
        return _strip(text, [])
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise ValueError("unsupported parse_mode")


class _Builder:
    """Accumulates output text and tracks the UTF-16 position for entity offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, chunk: str) -> None:
        if chunk:
            self.parts.append(chunk)
            self.pos += utf16_len(chunk)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        length = self.pos - start
        if length > 0:
            self.entities.append({"type": kind, "offset": start, "length": length, **extra})

    def result(self) -> ParsedText:
        return _strip("".join(self.parts), self.entities)


def _strip(text: str, entities: list[dict[str, Any]]) -> ParsedText:
    """Trim surrounding whitespace and shift/clip entities accordingly."""
    stripped_left = text.lstrip()
    lead = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    total = utf16_len(result)
    out: list[dict[str, Any]] = []
    for ent in entities:
        start = max(ent["offset"] - lead, 0)
        end = min(ent["offset"] + ent["length"] - lead, total)
        if end > start:
            out.append({**ent, "offset": start, "length": end - start})
    out.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText(result, tuple(out))


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


# ---------------------------------------------------------------------------------------------- HTML

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}
_HTML_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME = re.compile(r"[a-zA-Z0-9-]*")
_ATTR_NAME = re.compile(r"[a-zA-Z0-9_-]*")


@dataclass
class _OpenTag:
    name: str
    start: int
    attrs: dict[str, str]


def _decode_entity(match: re.Match[str]) -> str:
    body = match.group(1)
    if body in _NAMED:
        return _NAMED[body]
    code = int(body[2:], 16) if body.startswith("#x") else int(body[1:])
    return chr(code) if 0 < code <= 0x10FFFF else match.group(0)


def parse_html(text: str) -> ParsedText:
    """Parse Telegram's HTML subset; errors use TDLib's wording and byte offsets."""
    out = _Builder()
    stack: list[_OpenTag] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            m = _HTML_ENTITY.match(text, i)
            if m:
                out.add(_decode_entity(m))
                i = m.end()
            else:
                out.add("&")
                i += 1
            continue
        if ch != "<":
            j = i
            while j < n and text[j] not in "<&":
                j += 1
            out.add(text[i:j])
            i = j
            continue
        tag_start = i
        if i + 1 < n and text[i + 1] == "/":
            name_match = _TAG_NAME.match(text, i + 2)
            assert name_match is not None
            name = name_match.group(0).lower()
            j = name_match.end()
            while j < n and text[j] == " ":
                j += 1
            if j >= n or text[j] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, tag_start)}")
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, tag_start)}")
            top = stack[-1]
            if top.name != name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, tag_start)}, "
                    f'expected "</{top.name}>", found "</{name}>"'
                )
            stack.pop()
            _close_html(out, top, stack)
            i = j + 1
            continue
        name_match = _TAG_NAME.match(text, i + 1)
        assert name_match is not None
        name = name_match.group(0).lower()
        if name not in _HTML_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, tag_start)}'
            )
        j = name_match.end()
        attrs: dict[str, str] = {}
        while True:
            while j < n and text[j] in " \t\n\r":
                j += 1
            if j >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, tag_start)}")
            if text[j] == ">":
                j += 1
                break
            attr_match = _ATTR_NAME.match(text, j)
            assert attr_match is not None
            attr = attr_match.group(0).lower()
            if not attr:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {_byte_offset(text, j)}'
                )
            j = attr_match.end()
            while j < n and text[j] == " ":
                j += 1
            if j >= n or text[j] != "=":
                raise EntityParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {_byte_offset(text, tag_start)}"
                )
            j += 1
            while j < n and text[j] == " ":
                j += 1
            if j >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, tag_start)}")
            if text[j] in "\"'":
                quote = text[j]
                end = text.find(quote, j + 1)
                if end < 0:
                    raise EntityParseError(
                        f"Unclosed start tag at byte offset {_byte_offset(text, tag_start)}"
                    )
                raw_value = text[j + 1 : end]
                j = end + 1
            else:
                end = j
                while end < n and text[end] not in " \t\n\r>":
                    end += 1
                raw_value = text[j:end]
                j = end
            attrs[attr] = _HTML_ENTITY.sub(_decode_entity, raw_value)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError('Tag "span" must have class "tg-spoiler"')
        stack.append(_OpenTag(name, out.pos, attrs))
        i = j
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return out.result()


def _close_html(out: _Builder, tag: _OpenTag, stack: list[_OpenTag]) -> None:
    kind = _HTML_TAGS[tag.name]
    if kind == "text_link":
        href = tag.attrs.get("href")
        if href:
            out.entity("text_link", tag.start, url=href)
        return
    if kind == "code" and stack and stack[-1].name == "pre":
        language = tag.attrs.get("class", "")
        if language.startswith("language-"):
            # <pre><code class="language-x"> becomes one "pre" entity with a language.
            stack[-1].attrs["language"] = language[len("language-") :]
            return
    if kind == "pre":
        pre_language = tag.attrs.get("language")
        if pre_language:
            out.entity("pre", tag.start, language=pre_language)
        else:
            out.entity("pre", tag.start)
        return
    if kind == "blockquote":
        out.entity("expandable_blockquote" if "expandable" in tag.attrs else "blockquote", tag.start)
        return
    if kind == "custom_emoji":
        emoji_id = tag.attrs.get("emoji-id")
        if not emoji_id:
            raise EntityParseError('Tag "tg-emoji" must have attribute "emoji-id"')
        out.entity("custom_emoji", tag.start, custom_emoji_id=emoji_id)
        return
    if kind == "date_time":
        unix = tag.attrs.get("unix", "")
        if not unix.lstrip("-").isdigit():
            raise EntityParseError('Tag "tg-time" must have attribute "unix"')
        extra: dict[str, Any] = {"unix_time": int(unix)}
        if "format" in tag.attrs:
            extra["date_time_format"] = tag.attrs["format"]
        out.entity("date_time", tag.start, **extra)
        return
    out.entity(kind, tag.start)


# --------------------------------------------------------------------------------------- MarkdownV2

_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}
_MDV2_TOKENS = (
    ("||", "spoiler"),
    ("__", "underline"),
    ("*", "bold"),
    ("_", "italic"),
    ("~", "strikethrough"),
)


@dataclass
class _MdOpen:
    kind: str
    start: int
    byte_offset: int


def parse_markdown_v2(text: str) -> ParsedText:
    """Parse MarkdownV2: reserved characters must be escaped, entities must be closed and nested."""
    out = _Builder()
    stack: list[_MdOpen] = []
    quote_start: int | None = None
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            if i + 1 < n and 0 < ord(text[i + 1]) <= 126:
                out.add(text[i + 1])
                i += 2
                continue
            out.add(ch)
            i += 1
            continue
        if ch == "`":
            start_byte = _byte_offset(text, i)
            if text.startswith("```", i):
                end = text.find("```", i + 3)
                if end < 0:
                    raise EntityParseError(f"Can't find end of Pre entity at byte offset {start_byte}")
                body = text[i + 3 : end]
                language = ""
                if "\n" in body:
                    first, rest = body.split("\n", 1)
                    if first and re.fullmatch(r"[A-Za-z0-9_+#.-]+", first):
                        language, body = first, rest
                start = out.pos
                out.add(_unescape_code(body))
                if language:
                    out.entity("pre", start, language=language)
                else:
                    out.entity("pre", start)
                i = end + 3
                continue
            end = i + 1
            while end < n and text[end] != "`":
                end += 2 if text[end] == "\\" else 1
            if end >= n:
                raise EntityParseError(f"Can't find end of Code entity at byte offset {start_byte}")
            start = out.pos
            out.add(_unescape_code(text[i + 1 : end]))
            out.entity("code", start)
            i = end + 1
            continue
        if ch == "[" or (ch == "!" and text.startswith("![", i)):
            kind = "custom_emoji" if ch == "!" else "text_link"
            stack.append(_MdOpen(kind, out.pos, _byte_offset(text, i)))
            i += 2 if ch == "!" else 1
            continue
        if ch == "]" and stack and stack[-1].kind in ("text_link", "custom_emoji"):
            opened = stack.pop()
            if not text.startswith("(", i + 1):
                raise EntityParseError(f"Can't find end of a URL at byte offset {_byte_offset(text, i)}")
            end = i + 2
            url_chars: list[str] = []
            while end < n and text[end] != ")":
                if text[end] == "\\" and end + 1 < n:
                    url_chars.append(text[end + 1])
                    end += 2
                    continue
                url_chars.append(text[end])
                end += 1
            if end >= n:
                raise EntityParseError(f"Can't find end of a URL at byte offset {_byte_offset(text, i + 1)}")
            url = "".join(url_chars)
            if opened.kind == "custom_emoji":
                m = re.fullmatch(r"tg://emoji\?id=(\d+)", url)
                if not m:
                    raise EntityParseError("Custom emoji URL must have an emoji identifier")
                out.entity("custom_emoji", opened.start, custom_emoji_id=m.group(1))
            else:
                out.entity("text_link", opened.start, url=url)
            i = end + 1
            continue
        if ch == ">" and (i == 0 or text[i - 1] == "\n"):
            if quote_start is None:
                quote_start = out.pos
            i += 1
            continue
        if ch == "\n" and quote_start is not None and not text.startswith(">", i + 1):
            out.entity("blockquote", quote_start)
            quote_start = None
        token = next(((tok, kind) for tok, kind in _MDV2_TOKENS if text.startswith(tok, i)), None)
        if token is not None:
            tok, kind = token
            if stack and stack[-1].kind == kind:
                opened = stack.pop()
                out.entity(kind, opened.start)
            elif any(o.kind == kind for o in stack):
                top = stack[-1]
                raise EntityParseError(
                    f"Can't find end of {_MDV2_NAMES[top.kind]} entity at byte offset {top.byte_offset}"
                )
            else:
                stack.append(_MdOpen(kind, out.pos, _byte_offset(text, i)))
            i += len(tok)
            continue
        if ch in _MDV2_RESERVED:
            raise EntityParseError(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        out.add(ch)
        i += 1
    if stack:
        top = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES[top.kind]} entity at byte offset {top.byte_offset}"
        )
    if quote_start is not None:
        out.entity("blockquote", quote_start)
    return out.result()


def _unescape_code(body: str) -> str:
    return re.sub(r"\\([`\\])", r"\1", body)


# ------------------------------------------------------------------------------------ legacy Markdown

_LEGACY = {"*": "bold", "_": "italic"}


def parse_markdown(text: str) -> ParsedText:
    """Parse the legacy ``Markdown`` mode: ``*bold*``, ``_italic_``, code, pre and ``[text](url)``."""
    out = _Builder()
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if ch in _LEGACY or ch == "`" or ch == "[":
            start_byte = _byte_offset(text, i)
            error = EntityParseError(f"Can't find end of the entity starting at byte offset {start_byte}")
            start = out.pos
            if ch == "[":
                close = text.find("]", i + 1)
                if close < 0 or not text.startswith("(", close + 1):
                    raise error
                url_end = text.find(")", close + 2)
                if url_end < 0:
                    raise error
                out.add(text[i + 1 : close])
                out.entity("text_link", start, url=text[close + 2 : url_end])
                i = url_end + 1
                continue
            if text.startswith("```", i):
                end = text.find("```", i + 3)
                if end < 0:
                    raise error
                out.add(text[i + 3 : end])
                out.entity("pre", start)
                i = end + 3
                continue
            end = text.find(ch, i + 1)
            if end < 0:
                raise error
            out.add(text[i + 1 : end])
            out.entity("code" if ch == "`" else _LEGACY[ch], start)
            i = end + 1
            continue
        out.add(ch)
        i += 1
    return out.result()
