"""Unit tests of the spec loader, the request validator and the entity parsers (no HTTP)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import MultipartWriter

from sandbox.formatting import EntityParseError, parse_entities, utf16_len
from sandbox.spec import (
    NEWER_METHOD_PARAMS,
    NEWER_METHODS,
    NEWER_TYPE_FIELDS,
    RELAXED_REQUIRED,
    SPEC_PATH,
    FilePart,
    Validator,
    load_spec,
    validate_object,
    validate_request,
)
from sandbox.wire import parse_body

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT / ".." / "shared" / "telegram"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------------ the spec copy


def test_packaged_spec_is_an_unmodified_copy_of_shared() -> None:
    shared = SHARED / "bot-api.json"
    if not shared.exists():
        pytest.skip("shared/telegram is not checked out beside the repository")
    assert _sha256(SPEC_PATH) == _sha256(shared)


def test_spec_license_ships_beside_the_spec() -> None:
    license_file = SPEC_PATH.parent / "LICENSE.telegram-bot-api-spec"
    assert "MIT License" in license_file.read_text(encoding="utf-8")


def test_spec_loads_methods_and_types() -> None:
    spec = load_spec()
    assert spec.version == "Bot API 10.1"
    assert spec.method("SENDMESSAGE") is spec.methods["sendMessage"]
    assert spec.methods["sendMessage"].fields["chat_id"].types == ("Integer", "String")
    assert spec.types["BotCommandScopeChat"].discriminator == ("type", "chat")
    assert spec.types["ChatMemberBanned"].discriminator == ("status", "kicked")


def _aiogram_schema_additions(schema: dict[str, Any]) -> tuple[set[str], dict[str, set[str]], set[str]]:
    spec = load_spec()
    params: set[str] = set()
    fields: dict[str, set[str]] = {}
    methods: set[str] = set()
    for section in schema["items"]:
        for item in section["children"]:
            names = {a["name"] for a in item.get("annotations", [])}
            if item["category"] == "methods":
                known = spec.methods.get(item["name"])
                if known is None:
                    methods.add(item["name"])
                else:
                    params |= names - set(known.fields)
            else:
                known_type = spec.types.get(item["name"])
                if known_type is not None and names - set(known_type.fields):
                    fields[item["name"]] = names - set(known_type.fields)
    return params, fields, methods


def test_allow_list_covers_everything_bot_api_10_2_added() -> None:
    """Re-derive the allow-list from aiogram's 10.2 schema (when available) and compare."""
    schema_path = SHARED / "aiogram-schema-10.2.json"
    if not schema_path.exists():
        pytest.skip("shared/telegram/aiogram-schema-10.2.json is not available")
    params, fields, methods = _aiogram_schema_additions(json.loads(schema_path.read_text(encoding="utf-8")))
    assert params <= set(NEWER_METHOD_PARAMS)
    for type_name, names in fields.items():
        assert names <= NEWER_TYPE_FIELDS.get(type_name, frozenset()), type_name
    assert methods <= NEWER_METHODS
    assert ("ReplyParameters", "message_id") in RELAXED_REQUIRED


# --------------------------------------------------------------------------------- request tables

KB = {"inline_keyboard": [[{"text": "Yes", "callback_data": "vote:yes"}]]}

GOOD_REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("sendMessage", {"chat_id": 1, "text": "hello"}),
    ("sendMessage", {"chat_id": "@village", "text": "hi", "parse_mode": "HTML"}),
    (
        "sendMessage",
        {"chat_id": 1, "text": "<b>bold</b> &amp; <a href='https://t.me'>link</a>", "parse_mode": "HTML"},
    ),
    ("sendMessage", {"chat_id": 1, "text": "x" * 4096}),
    ("sendMessage", {"chat_id": 1, "text": "<b>" + "x" * 4096 + "</b>", "parse_mode": "HTML"}),
    ("sendMessage", {"chat_id": 1, "text": "ok", "reply_markup": KB}),
    (
        "sendMessage",
        {
            "chat_id": 1,
            "text": "ok",
            "reply_markup": {"inline_keyboard": [[{"text": "a", "url": "https://x"}]]},
        },
    ),
    (
        "sendMessage",
        {
            "chat_id": 1,
            "text": "ok",
            "reply_markup": {"keyboard": [["plain", {"text": "phone", "request_contact": True}]]},
        },
    ),
    ("sendMessage", {"chat_id": 1, "text": "ok", "reply_markup": {"remove_keyboard": True}}),
    ("sendMessage", {"chat_id": 1, "text": "ok", "reply_parameters": {"message_id": 3}}),
    ("sendMessage", {"chat_id": 1, "text": "ok", "receiver_user_id": 5}),  # 10.2, allow-listed
    ("sendMessage", {"chat_id": 1, "text": "ok", "callback_query_id": "77"}),  # 10.2, allow-listed
    ("SENDmessage", {"chat_id": 1, "text": "case-insensitive method names"}),
    (
        "sendMessage",
        {
            "chat_id": 1,
            "text": "ok",
            "reply_markup": {"inline_keyboard": [[{"text": "é", "callback_data": "é" * 32}]]},
        },
    ),
    ("setMyCommands", {"commands": [{"command": "start", "description": "Start"}]}),
    ("setMyCommands", {"commands": [{"command": f"c{i}", "description": "d"} for i in range(100)]}),
    ("setMyCommands", {"commands": [], "scope": {"type": "chat", "chat_id": 5}, "language_code": "zh"}),
    ("setMyCommands", {"commands": [{"command": "start", "description": "S"}], "language_code": ""}),
    ("getUpdates", {"offset": -1, "limit": 100, "timeout": 30, "allowed_updates": ["message"]}),
    ("setWebhook", {"url": "https://example.org/hook", "secret_token": "Abc_-9", "max_connections": 100}),
    ("getMe", {}),
    ("answerCallbackQuery", {"callback_query_id": "1", "text": "x" * 200}),
    ("sendDocument", {"chat_id": 1, "document": FilePart("d", "a.pdf", "application/pdf", b"%PDF")}),
    ("sendDocument", {"chat_id": 1, "document": "BQACAgIAAxkBAAI"}),
]

BAD_REQUESTS: list[tuple[str, dict[str, Any], str, str]] = [
    # (method, params, offending parameter, Telegram's error description)
    ("fooBar", {}, "", "Not Found: method not found"),
    ("sendMessage", {"chat_id": 1}, "text", "Bad Request: message text is empty"),
    ("sendMessage", {"text": "hi"}, "chat_id", "Bad Request: chat_id is empty"),
    ("sendMessage", {"chat_id": 1, "text": ""}, "text", "Bad Request: message text is empty"),
    (
        "sendMessage",
        {"chat_id": 1, "text": "   ", "parse_mode": "HTML"},
        "text",
        "Bad Request: message text is empty",
    ),
    ("sendMessage", {"chat_id": 1, "text": "x" * 4097}, "text", "Bad Request: message is too long"),
    ("sendMessage", {"chat_id": 1, "text": "😀" * 2049}, "text", "Bad Request: message is too long"),
    (
        "sendMessage",
        {"chat_id": 1, "text": "hi", "colour": "red"},
        "colour",
        'Bad Request: unknown parameter "colour"',
    ),
    (
        "sendMessage",
        {"chat_id": 1.5, "text": "hi"},
        "chat_id",
        "Bad Request: chat_id must be of type Integer or String",
    ),
    (
        "sendMessage",
        {"chat_id": 1, "text": "hi", "disable_notification": "yes"},
        "disable_notification",
        "Bad Request: disable_notification must be of type Boolean, got String",
    ),
    (
        "sendMessage",
        {"chat_id": 1, "text": "<b>hi", "parse_mode": "HTML"},
        "text",
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
    ),
    (
        "sendMessage",
        {"chat_id": 1, "text": "<blink>hi</blink>", "parse_mode": "HTML"},
        "text",
        'Bad Request: can\'t parse entities: Unsupported start tag "blink" at byte offset 0',
    ),
    (
        "sendMessage",
        {"chat_id": 1, "text": "a <b>b</i>", "parse_mode": "HTML"},
        "text",
        "Bad Request: can't parse entities: "
        'Unmatched end tag at byte offset 6, expected "</b>", found "</i>"',
    ),
    (
        "sendMessage",
        {"chat_id": 1, "text": "done.", "parse_mode": "MarkdownV2"},
        "text",
        "Bad Request: can't parse entities: "
        "Character '.' is reserved and must be escaped with the preceding '\\'",
    ),
    (
        "sendMessage",
        {"chat_id": 1, "text": "hi", "parse_mode": "bbcode"},
        "parse_mode",
        "Bad Request: unsupported parse_mode",
    ),
    (
        "sendMessage",
        {
            "chat_id": 1,
            "text": "hi",
            "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "x" * 65}]]},
        },
        "reply_markup.inline_keyboard[0][0].callback_data",
        "Bad Request: BUTTON_DATA_INVALID",
    ),
    (
        "sendMessage",
        {
            "chat_id": 1,
            "text": "hi",
            "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "é" * 33}]]},
        },
        "reply_markup.inline_keyboard[0][0].callback_data",
        "Bad Request: BUTTON_DATA_INVALID",
    ),
    (
        "sendMessage",
        {"chat_id": 1, "text": "hi", "reply_markup": {"inline_keyboard": [[{"text": "a"}]]}},
        "reply_markup.inline_keyboard[0][0]",
        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
    ),
    (
        "sendMessage",
        {
            "chat_id": 1,
            "text": "hi",
            "reply_markup": {"inline_keyboard": [[{"text": "a", "url": "https://x", "callback_data": "b"}]]},
        },
        "reply_markup.inline_keyboard[0][0]",
        "Bad Request: can't parse inline keyboard button: "
        "exactly one of the fields url, callback_data must be used",
    ),
    (
        "sendMessage",
        {
            "chat_id": 1,
            "text": "hi",
            "reply_markup": {"inline_keyboard": [{"text": "a", "callback_data": "b"}]},
        },
        "reply_markup.inline_keyboard[0]",
        "Bad Request: reply_markup.inline_keyboard[0] must be an Array of InlineKeyboardButton",
    ),
    (
        "sendMessage",
        {
            "chat_id": 1,
            "text": "hi",
            "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "b", "colour": 1}]]},
        },
        "reply_markup.inline_keyboard[0][0].colour",
        'Bad Request: unknown field "colour"',
    ),
    (
        "sendMessage",
        {
            "chat_id": 1,
            "text": "hi",
            "reply_markup": {
                "keyboard": [[{"text": "a", "request_contact": True, "request_location": True}]]
            },
        },
        "reply_markup.keyboard[0][0]",
        "Bad Request: can't parse keyboard button: "
        "at most one of the fields request_contact, request_location can be used",
    ),
    (
        "sendMessage",
        {
            "chat_id": 1,
            "text": "hi",
            "reply_markup": {
                "inline_keyboard": [[{"text": str(i), "callback_data": str(i)} for i in range(9)]]
            },
        },
        "reply_markup",
        "Bad Request: reply markup is too long",
    ),
    (
        "setMyCommands",
        {"commands": [{"command": "Start", "description": "x"}]},
        "commands[0].command",
        "Bad Request: BOT_COMMAND_INVALID",
    ),
    (
        "setMyCommands",
        {"commands": [{"command": "x" * 33, "description": "x"}]},
        "commands[0].command",
        "Bad Request: BOT_COMMAND_INVALID",
    ),
    (
        "setMyCommands",
        {"commands": [{"command": "start", "description": ""}]},
        "commands[0].description",
        "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID",
    ),
    (
        "setMyCommands",
        {"commands": [{"command": f"c{i}", "description": "d"} for i in range(101)]},
        "commands",
        "Bad Request: BOT_COMMANDS_TOO_MUCH",
    ),
    (
        "setMyCommands",
        {"commands": [{"command": "start", "description": "S"}], "language_code": "zh-hans"},
        "language_code",
        "Bad Request: invalid language code specified",
    ),
    (
        "setMyCommands",
        {"commands": [], "scope": {"type": "everyone"}},
        "scope.type",
        "Bad Request: unsupported BotCommandScope type 'everyone'",
    ),
    (
        "setMyCommands",
        {"commands": [], "scope": {"type": "chat"}},
        "scope.chat_id",
        "Bad Request: chat_id is empty",
    ),
    ("getUpdates", {"limit": 0}, "limit", 'Bad Request: parameter "limit" must be between 1 and 100'),
    ("getUpdates", {"limit": 101}, "limit", 'Bad Request: parameter "limit" must be between 1 and 100'),
    (
        "setWebhook",
        {"url": "https://x", "secret_token": "has space"},
        "secret_token",
        "Bad Request: secret token contains unallowed characters",
    ),
    (
        "setWebhook",
        {"url": "https://x", "secret_token": "a" * 257},
        "secret_token",
        "Bad Request: secret token is too long",
    ),
    (
        "answerCallbackQuery",
        {"callback_query_id": "1", "text": "x" * 201},
        "text",
        'Bad Request: parameter "text" must be 0-200 characters long',
    ),
    (
        "sendDocument",
        {"chat_id": 1, "document": 5},
        "document",
        "Bad Request: document must be of type InputFile or String",
    ),
    (
        "sendDocument",
        {"chat_id": 1, "document": "x", "caption": "c" * 1025},
        "caption",
        "Bad Request: message caption is too long",
    ),
    ("editMessageText", {"text": "hi"}, "chat_id", "Bad Request: chat_id is empty"),
]


@pytest.mark.parametrize(("method", "params"), GOOD_REQUESTS)
def test_good_requests_validate(method: str, params: dict[str, Any]) -> None:
    assert validate_request(method, params) == []


@pytest.mark.parametrize(("method", "params", "parameter", "description"), BAD_REQUESTS)
def test_bad_requests_are_rejected_with_telegram_errors(
    method: str, params: dict[str, Any], parameter: str, description: str
) -> None:
    violations = validate_request(method, params)
    assert violations, "expected a violation"
    assert violations[0].parameter == parameter
    assert violations[0].description == description


def test_nested_inline_keyboard_errors_point_at_the_button() -> None:
    markup = {
        "inline_keyboard": [
            [{"text": "ok", "callback_data": "1"}],
            [{"text": "ok", "callback_data": "2"}, {"text": "bad", "callback_data": "x" * 65}],
        ]
    }
    violations = validate_request("sendMessage", {"chat_id": 1, "text": "t", "reply_markup": markup})
    assert [v.parameter for v in violations] == ["reply_markup.inline_keyboard[1][1].callback_data"]
    assert violations[0].reason.endswith("65 bytes long in UTF-8, allowed 1-64")


def test_newer_parameters_are_rejected_when_the_allow_list_is_off() -> None:
    strict = Validator(allow_newer=False)
    [violation] = strict.validate_request("sendMessage", {"chat_id": 1, "text": "x", "receiver_user_id": 5})
    assert violation.code == "unknown_param"
    assert violation.parameter == "receiver_user_id"


def test_explicit_entities_take_precedence_over_parse_mode() -> None:
    params = {
        "chat_id": 1,
        "text": "a < b",
        "parse_mode": "HTML",
        "entities": [{"type": "bold", "offset": 0, "length": 1}],
    }
    assert validate_request("sendMessage", params) == []
    [violation] = validate_request("sendMessage", {**params, "entities": []})
    assert violation.code == "entities"


def test_community_rules_can_be_switched_off() -> None:
    wide_row = {"inline_keyboard": [[{"text": str(i), "callback_data": str(i)} for i in range(9)]]}
    lenient = Validator(community_rules=False)
    assert (
        lenient.validate_request("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": wide_row}) == []
    )


def test_text_length_counts_utf16_after_entity_parsing() -> None:
    # 2048 emoji = 4096 UTF-16 code units: exactly at the limit once the tags are stripped.
    text = "<i>" + "😀" * 2048 + "</i>"
    assert validate_request("sendMessage", {"chat_id": 1, "text": text, "parse_mode": "HTML"}) == []
    too_long = "<i>" + "😀" * 2048 + "!</i>"
    [violation] = validate_request("sendMessage", {"chat_id": 1, "text": too_long, "parse_mode": "HTML"})
    assert violation.description == "Bad Request: message is too long"


# --------------------------------------------------------------------------------- response objects


def test_validate_object_accepts_a_realistic_message_and_rejects_broken_ones() -> None:
    message = {
        "message_id": 1,
        "date": 1_700_000_000,
        "chat": {"id": 7_000_000_001, "type": "private", "first_name": "Li"},
        "from": {"id": 1, "is_bot": True, "first_name": "Bot"},
        "text": "hi",
        "entities": [{"type": "bold", "offset": 0, "length": 2}],
    }
    assert validate_object("Message", message) == []
    assert [v.parameter for v in validate_object("Message", {**message, "chat": {"id": 1}})] == ["chat.type"]
    assert [v.parameter for v in validate_object("Message", {**message, "invented": 1})] == ["invented"]
    bad_entity = {**message, "entities": [{"type": "sparkle", "offset": 0, "length": 2}]}
    assert [v.code for v in validate_object("Message", bad_entity)] == ["enum"]


def test_validate_object_resolves_union_parents_by_discriminator() -> None:
    member = {"status": "kicked", "user": {"id": 1, "is_bot": False, "first_name": "A"}, "until_date": 0}
    assert validate_object("ChatMember", member) == []
    [missing] = validate_object("ChatMember", {**member, "status": "member", "until_date": "soon"})
    assert missing.parameter == "until_date"
    [unknown] = validate_object("ChatMember", {**member, "status": "ghost"})
    assert unknown.code == "discriminator"


def test_validate_object_handles_arrays_and_method_unions() -> None:
    assert validate_object("Array of Update", [{"update_id": 1}]) == []
    assert validate_object(("Message", "Boolean"), True) == []
    assert validate_object("Array of Update", {"update_id": 1})[0].code == "type"
    assert validate_object("Integer", 2**63)[0].code == "type"
    assert validate_object("Integer", True)[0].code == "type"


# ------------------------------------------------------------------------------------ formatting


@pytest.mark.parametrize(
    ("text", "mode", "plain", "entities"),
    [
        ("<b>a</b>", "HTML", "a", [{"type": "bold", "offset": 0, "length": 1}]),
        ("x &lt;y&gt; &amp; &#128512;", "html", "x <y> & 😀", []),
        (
            '<a href="https://t.me/x">go</a>',
            "HTML",
            "go",
            [{"type": "text_link", "offset": 0, "length": 2, "url": "https://t.me/x"}],
        ),
        (
            '<pre><code class="language-py">x</code></pre>',
            "HTML",
            "x",
            [{"type": "pre", "offset": 0, "length": 1, "language": "py"}],
        ),
        ("😀<u>b</u>", "HTML", "😀b", [{"type": "underline", "offset": 2, "length": 1}]),
        ("  <i>pad</i>  ", "HTML", "pad", [{"type": "italic", "offset": 0, "length": 3}]),
        ("*bold* and \\.", "MarkdownV2", "bold and .", [{"type": "bold", "offset": 0, "length": 4}]),
        (
            "__u__ ||s||",
            "MarkdownV2",
            "u s",
            [{"type": "underline", "offset": 0, "length": 1}, {"type": "spoiler", "offset": 2, "length": 1}],
        ),
        (
            "[site](https://a.b/c)",
            "MarkdownV2",
            "site",
            [{"type": "text_link", "offset": 0, "length": 4, "url": "https://a.b/c"}],
        ),
        ("`a.b`", "MarkdownV2", "a.b", [{"type": "code", "offset": 0, "length": 3}]),
        (
            "*b* _i_",
            "Markdown",
            "b i",
            [{"type": "bold", "offset": 0, "length": 1}, {"type": "italic", "offset": 2, "length": 1}],
        ),
        ("plain <b>", None, "plain <b>", []),
    ],
)
def test_entity_parsing(text: str, mode: str | None, plain: str, entities: list[dict[str, Any]]) -> None:
    parsed = parse_entities(text, mode)
    assert parsed.text == plain
    assert [dict(e) for e in parsed.entities] == entities


@pytest.mark.parametrize(
    ("text", "mode", "error"),
    [
        ("<b>x", "HTML", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "HTML", "Unexpected end tag at byte offset 1"),
        (
            "<b x>y</b>",
            "HTML",
            'Expected equal sign in declaration of an attribute of the tag "b" at byte offset 0',
        ),
        ("<b", "HTML", "Unclosed start tag at byte offset 0"),
        ("é<span>x</span>", "HTML", 'Tag "span" must have class "tg-spoiler"'),
        ("*open", "MarkdownV2", "Can't find end of Bold entity at byte offset 0"),
        ("1+1", "MarkdownV2", "Character '+' is reserved and must be escaped with the preceding '\\'"),
        ("_open", "Markdown", "Can't find end of the entity starting at byte offset 0"),
    ],
)
def test_entity_parse_errors_use_tdlib_wording(text: str, mode: str, error: str) -> None:
    with pytest.raises(EntityParseError) as info:
        parse_entities(text, mode)
    assert str(info.value) == error


def test_utf16_len_counts_surrogate_pairs() -> None:
    assert utf16_len("a") == 1
    assert utf16_len("村") == 1
    assert utf16_len("😀") == 2


# ----------------------------------------------------------------------------------- wire parsing


async def test_parse_body_reads_json_urlencoded_and_multipart() -> None:
    assert parse_body("application/json", b'{"method": "sendMessage", "chat_id": 1}') == (
        {"method": "sendMessage", "chat_id": 1},
        {},
    )
    assert parse_body("application/x-www-form-urlencoded; charset=utf-8", b"text=%E6%9D%91&a=") == (
        {"text": "村", "a": ""},
        {},
    )
    writer = MultipartWriter("form-data", boundary="b0undary")
    writer.append("sendDocument").set_content_disposition("form-data", name="method")
    writer.append("attach://f").set_content_disposition("form-data", name="document")
    writer.append(b"%PDF\x00\xff").set_content_disposition("form-data", name="f", filename="名单.pdf")
    chunks: list[bytes] = []

    class Sink:
        async def write(self, data: bytes) -> None:
            chunks.append(bytes(data))

    await writer.write(Sink())  # type: ignore[arg-type]
    values, files = parse_body("multipart/form-data; boundary=b0undary", b"".join(chunks))
    assert values == {"method": "sendDocument", "document": "attach://f"}
    assert (files["f"].filename, files["f"].data) == ("名单.pdf", b"%PDF\x00\xff")
