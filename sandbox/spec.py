"""The Bot API specification (``spec/bot-api.json``, Bot API 10.1) and a strict validator built from it.

Why strict: the emulator exists so that the bot's test suite fails when the bot sends something
Telegram would reject (or silently ignore). Every request is checked against the machine-readable
spec: the method must exist, required parameters must be present, unknown parameters are rejected,
values are type-checked recursively, and the limits that the spec only states in prose ("1-4096
characters after entities parsing", "1-64 bytes", "Values between 1-100") are extracted with regular
expressions. The same validator checks the emulator's *own* responses, so that the emulator cannot
drift away from what real Telegram returns.

Public entry points: :func:`validate_request`, :func:`validate_object`, :func:`load_spec` and the
:class:`Validator` class when non-default options are needed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sandbox.formatting import EntityParseError, parse_entities, utf16_len

__all__ = [
    "NEWER_METHODS",
    "NEWER_METHOD_PARAMS",
    "NEWER_TYPE_FIELDS",
    "RELAXED_REQUIRED",
    "SPEC_PATH",
    "Constraint",
    "FieldSpec",
    "FilePart",
    "MethodSpec",
    "Spec",
    "TypeSpec",
    "Validator",
    "Violation",
    "load_spec",
    "validate_object",
    "validate_request",
]

SPEC_DIR = Path(__file__).resolve().parent / "spec"
SPEC_PATH = SPEC_DIR / "bot-api.json"

# --------------------------------------------------------------------------------------- allow-lists
# The spec shipped here is Bot API 10.1, while aiogram 3.31 speaks 10.3. aiogram omits every parameter
# whose value is None, so a bot that does not use the newer features never sends these names; if it
# does, the request must not be rejected as "unknown". The lists below were derived by diffing
# shared/telegram/bot-api.json (10.1) against shared/telegram/aiogram-schema-10.2.json and against the
# models of the installed aiogram 3.31 (10.3). tests/sandbox/test_spec.py re-derives the 10.2 part
# from the schema file whenever it is available and fails if an addition is missing here.

#: Method parameters added after 10.1 -> the Bot API version that introduced them.
NEWER_METHOD_PARAMS: Mapping[str, str] = {
    "receiver_user_id": "10.2",  # send* methods
    "callback_query_id": "10.2",  # send* methods (answerCallbackQuery already had it)
    "ephemeral_message_parameters": "10.3",  # send* methods
    "can_stop": "10.3",  # sendMessageDraft, sendRichMessageDraft
    "keep_on_stop": "10.3",  # sendMessageDraft, sendRichMessageDraft
    "can_send_welcome_messages": "10.3",  # promoteChatMember
}

#: Object fields added after 10.1, per type.
NEWER_TYPE_FIELDS: Mapping[str, frozenset[str]] = {
    "BotCommand": frozenset({"is_ephemeral"}),  # 10.2
    "ReplyParameters": frozenset({"ephemeral_message_id"}),  # 10.2
    "InputRichMessage": frozenset({"blocks", "media"}),  # 10.2
    "Update": frozenset({"subscription", "stopped_message_generation"}),  # 10.2 / 10.3
    "Message": frozenset(
        {"receiver_user", "ephemeral_message_id", "community_chat_added", "community_chat_removed"}
    ),
    "ChatFullInfo": frozenset({"community"}),  # 10.2
    "InlineKeyboardButton": frozenset({"disabled"}),  # 10.3 (DisabledButton)
    "ChatAdministratorRights": frozenset({"can_send_welcome_messages"}),  # 10.3
    # 10.3; aiogram 3.31 even requires it when parsing a ChatMemberAdministrator.
    "ChatMemberAdministrator": frozenset({"can_send_welcome_messages"}),
}

#: Methods added after 10.1: answered with "method is not supported by the emulator", not 404.
NEWER_METHODS: frozenset[str] = frozenset(
    {
        "editEphemeralMessageText",
        "editEphemeralMessageMedia",
        "editEphemeralMessageCaption",
        "editEphemeralMessageReplyMarkup",
        "deleteEphemeralMessage",
    }
)

#: (type or method, field) pairs that were required in 10.1 and became optional later.
RELAXED_REQUIRED: frozenset[tuple[str, str]] = frozenset({("ReplyParameters", "message_id")})

PRIMITIVES = frozenset({"Integer", "String", "Boolean", "Float", "InputFile", "True"})
INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class FilePart:
    """An uploaded file (a multipart part), the runtime value of the spec type ``InputFile``."""

    name: str
    filename: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class Violation:
    """One reason why a request (or a response object) does not conform to the spec.

    ``description`` is the Telegram error string returned to the client ("Bad Request: ..."),
    ``reason`` a longer explanation for humans, ``parameter`` the dotted path of the offending value.
    """

    method: str | None
    parameter: str
    reason: str
    description: str
    status: int = 400
    code: str = "invalid"

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "parameter": self.parameter,
            "reason": self.reason,
            "description": self.description,
            "status": self.status,
            "code": self.code,
        }


# ------------------------------------------------------------------------------------- constraints


@dataclass(frozen=True)
class Constraint:
    """A limit extracted from a field description.

    kind: ``chars`` (UTF-16 length), ``bytes`` (UTF-8 length), ``range`` (numeric), ``items`` (array
    length), ``charset`` (regex on the whole string), ``language`` (two-letter code or empty),
    ``enum`` (one of the quoted values).
    """

    kind: str
    low: int = 0
    high: int = 0
    pattern: str = ""
    values: tuple[str, ...] = ()
    after_entities: bool = False


_RE_CHARS = re.compile(r"(\d+)-(\d+) characters")
_RE_BYTES = re.compile(r"(\d+)-(\d+) bytes", re.IGNORECASE)
_RE_VALUES = re.compile(r"[Vv]alues between (\d+)-(\d+)")
_RE_INT_RANGE = re.compile(r"(?:^|, |; )(\d+)-(\d+)(?=[.,;]|$)")
_RE_ITEMS = re.compile(r"(?:[Ll]ist of|[Aa]rray of|include) (\d+)-(\d+)\b")
_RE_AT_MOST = re.compile(r"At most (\d+) [\w ]+? can be specified")
_RE_ENUM = re.compile(
    r"(?:[Mm]ust be one of|[Cc]an be either|[Cc]an be one of|[Cc]urrently, can be|One of) (.*?)(?:\. |$)"
)
_RE_QUOTED = re.compile(r'"([^"]+)"')
_RE_REQUIRED_IF = re.compile(r"[Rr]equired if ([\w ,]+?) (?:is not|are not|isn't|aren't) specified")
_RE_BUTTON_RULE = re.compile(r"(Exactly|At most) one of the fields other than ([\w, ]+?) must be used")
_RE_DISCRIMINATOR = re.compile(r'(?:always|must be) "?([\w-]+)"?\s*$')

_CHARSETS = (
    ("Only characters A-Z, a-z, 0-9, _ and - are allowed", r"[A-Za-z0-9_-]*"),
    ("Can contain only lowercase English letters, digits and underscores", r"[a-z0-9_]*"),
    ("Can contain only English letters, digits and underscores", r"[A-Za-z0-9_]*"),
)


def _extract_constraints(types: Sequence[str], description: str) -> tuple[Constraint, ...]:
    out: list[Constraint] = []
    is_string = "String" in types
    is_int = "Integer" in types and not is_string
    is_array = any(t.startswith("Array of") for t in types)
    after = "after entit" in description
    if is_string:
        if m := _RE_CHARS.search(description):
            out.append(Constraint("chars", int(m.group(1)), int(m.group(2)), after_entities=after))
        if m := _RE_BYTES.search(description):
            out.append(Constraint("bytes", int(m.group(1)), int(m.group(2))))
        for phrase, pattern in _CHARSETS:
            if phrase in description:
                out.append(Constraint("charset", pattern=pattern))
        if "two-letter ISO 639-1 language code" in description:
            out.append(Constraint("language"))
        if tuple(types) == ("String",) and (m := _RE_ENUM.search(description)):
            values = tuple(_RE_QUOTED.findall(m.group(1)))
            if values:
                out.append(Constraint("enum", values=values))
    if is_int and (m := _RE_VALUES.search(description) or _RE_INT_RANGE.search(description)):
        out.append(Constraint("range", int(m.group(1)), int(m.group(2))))
    if is_array:
        if m := _RE_ITEMS.search(description):
            out.append(Constraint("items", int(m.group(1)), int(m.group(2))))
        elif m := _RE_AT_MOST.search(description):
            out.append(Constraint("items", 0, int(m.group(1))))
    return tuple(out)


# --------------------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class FieldSpec:
    """A method parameter or an object field."""

    name: str
    types: tuple[str, ...]
    required: bool
    description: str
    constraints: tuple[Constraint, ...]
    required_unless: tuple[str, ...] = ()


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: Mapping[str, FieldSpec]
    returns: tuple[str, ...]


@dataclass(frozen=True)
class TypeSpec:
    name: str
    fields: Mapping[str, FieldSpec]
    subtypes: tuple[str, ...]
    subtype_of: tuple[str, ...]
    description: str
    #: (field, value) telling this union member apart, from "always "x"" / "must be x".
    discriminator: tuple[str, str] | None
    #: For keyboard buttons: ("exactly" | "at_most", names of the non-action fields).
    button_rule: tuple[str, frozenset[str]] | None


def _fields(owner: str, raw: Iterable[Mapping[str, Any]]) -> dict[str, FieldSpec]:
    out: dict[str, FieldSpec] = {}
    for f in raw:
        types = list(f["types"])
        description = str(f["description"])
        unless: tuple[str, ...] = ()
        if m := _RE_REQUIRED_IF.search(description):
            unless = tuple(n for n in re.split(r",\s*|\s+and\s+", m.group(1)) if n)
        out[f["name"]] = FieldSpec(
            name=f["name"],
            types=tuple(types),
            required=bool(f["required"]) and (owner, f["name"]) not in RELAXED_REQUIRED,
            description=description,
            constraints=_extract_constraints(types, description),
            required_unless=unless,
        )
    return out


class Spec:
    """The loaded specification, with case-insensitive method lookup."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.version: str = str(raw["version"])
        self.release_date: str = str(raw["release_date"])
        self.methods: dict[str, MethodSpec] = {
            name: MethodSpec(name, _fields(name, m.get("fields", [])), tuple(m["returns"]))
            for name, m in raw["methods"].items()
        }
        self._lower = {name.lower(): name for name in self.methods}
        self._newer_lower = {name.lower(): name for name in NEWER_METHODS}
        self.types: dict[str, TypeSpec] = {}
        for name, t in raw["types"].items():
            fields = _fields(name, t.get("fields", []))
            description = " ".join(t.get("description", []))
            discriminator = None
            for key in ("type", "status", "source"):
                fs = fields.get(key)
                if fs is not None and t.get("subtype_of"):
                    if m := _RE_DISCRIMINATOR.search(fs.description):
                        discriminator = (key, m.group(1))
                    break
            button_rule = None
            if m := _RE_BUTTON_RULE.search(description):
                names = frozenset(n for n in re.split(r",\s*(?:and\s+)?|\s+and\s+", m.group(2)) if n)
                button_rule = ("exactly" if m.group(1) == "Exactly" else "at_most", names)
            self.types[name] = TypeSpec(
                name=name,
                fields=fields,
                subtypes=tuple(t.get("subtypes", [])),
                subtype_of=tuple(t.get("subtype_of", [])),
                description=description,
                discriminator=discriminator,
                button_rule=button_rule,
            )

    def method(self, name: str) -> MethodSpec | None:
        """Look a method up case-insensitively, as the Bot API does."""
        canonical = self._lower.get(name.lower())
        return self.methods[canonical] if canonical else None

    def newer_method(self, name: str) -> str | None:
        """The canonical name if ``name`` is a method added after this spec (see NEWER_METHODS)."""
        return self._newer_lower.get(name.lower())


@lru_cache(maxsize=4)
def load_spec(path: Path = SPEC_PATH) -> Spec:
    """Load (and cache) the spec; the default is the copy shipped inside the package."""
    with path.open(encoding="utf-8") as fh:
        return Spec(json.load(fh))


# --------------------------------------------------------------------------------------- validator


def _split_array(type_name: str) -> str | None:
    return type_name[len("Array of ") :] if type_name.startswith("Array of ") else None


@dataclass
class _Ctx:
    method: str | None
    request: bool
    out: list[Violation] = field(default_factory=list)

    def add(self, path: str, reason: str, description: str | None = None, code: str = "invalid") -> None:
        self.out.append(
            Violation(
                method=self.method,
                parameter=path,
                reason=reason,
                description=description or f"Bad Request: {reason}",
                code=code,
            )
        )


#: Error strings of the real server for specific fields (owner, field, problem).
_TEXT_OWNERS = frozenset({"sendMessage", "editMessageText"})
_CAPTION_FIELDS = frozenset({"caption"})


def _length_description(owner: str, name: str, kind: str, too_long: bool, low: int, high: int) -> str:
    if name == "text" and owner in _TEXT_OWNERS:
        return "Bad Request: message is too long" if too_long else "Bad Request: message text is empty"
    if name in _CAPTION_FIELDS and too_long:
        return "Bad Request: message caption is too long"
    if name == "callback_data":
        return "Bad Request: BUTTON_DATA_INVALID"
    if name == "secret_token":
        return "Bad Request: secret token is too long" if too_long else "Bad Request: secret token is empty"
    if owner == "BotCommand" and name == "command":
        return "Bad Request: BOT_COMMAND_INVALID"
    if owner == "BotCommand" and name == "description":
        return "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"
    unit = "characters" if kind == "chars" else "bytes"
    return f'Bad Request: parameter "{name}" must be {low}-{high} {unit} long'


def _charset_description(owner: str, name: str) -> str:
    if name == "secret_token":
        return "Bad Request: secret token contains unallowed characters"
    if owner == "BotCommand" and name == "command":
        return "Bad Request: BOT_COMMAND_INVALID"
    return f'Bad Request: parameter "{name}" contains unallowed characters'


def _missing_description(owner: str, name: str) -> str:
    if name == "chat_id":
        return "Bad Request: chat_id is empty"
    if name == "text" and owner in _TEXT_OWNERS:
        return "Bad Request: message text is empty"
    if name == "callback_query_id":
        return "Bad Request: query is too old and response timeout expired or query ID is invalid"
    if owner == "InlineKeyboardButton" and name == "text":
        return 'Bad Request: can\'t parse inline keyboard button: Field "text" must be of type String'
    return f'Bad Request: parameter "{name}" is required'


class Validator:
    """Checks requests and objects against a :class:`Spec`.

    ``allow_newer``: accept the parameters and fields listed in the NEWER_* allow-lists.
    ``community_rules``: enforce the undocumented keyboard caps (≤100 inline buttons, ≤8 per inline
    row, ≤300 reply buttons, ≤12 per reply row, ≤10 KB of markup) that Telegram applies in practice.
    """

    INLINE_MAX_BUTTONS = 100
    INLINE_MAX_ROW = 8
    REPLY_MAX_BUTTONS = 300
    REPLY_MAX_ROW = 12
    MARKUP_MAX_BYTES = 10 * 1024

    def __init__(
        self, spec: Spec | None = None, *, allow_newer: bool = True, community_rules: bool = True
    ) -> None:
        self.spec = spec or load_spec()
        self.allow_newer = allow_newer
        self.community_rules = community_rules

    # --------------------------------------------------------------------------------- requests

    def validate_request(self, method: str, params: Mapping[str, Any]) -> list[Violation]:
        """Validate decoded request parameters (objects as dicts/lists, files as :class:`FilePart`)."""
        spec = self.spec.method(method)
        if spec is None:
            return [
                Violation(
                    method=method,
                    parameter="",
                    reason=f"method {method!r} is not in Bot API {self.spec.version}",
                    description="Not Found: method not found",
                    status=404,
                    code="unknown_method",
                )
            ]
        ctx = _Ctx(method=spec.name, request=True)
        self._check_fields(spec.name, spec.fields, params, "", ctx, newer=NEWER_METHOD_PARAMS.keys())
        return ctx.out

    # ---------------------------------------------------------------------------------- objects

    def validate_object(
        self, type_name: str | Sequence[str], value: Any, *, request: bool = False
    ) -> list[Violation]:
        """Validate ``value`` against a type expression (``"Message"``, ``"Array of Update"``, ...).

        A sequence of type expressions is a union (e.g. a method's ``returns``). ``request=True`` applies
        the rules for values a client sends (InputFile allowed, keyboard button rules).
        """
        types = (type_name,) if isinstance(type_name, str) else tuple(type_name)
        ctx = _Ctx(method=None, request=request)
        self._check(types, value, "", ctx)
        return ctx.out

    # ---------------------------------------------------------------------------------- engine

    def _check_fields(
        self,
        owner: str,
        fields: Mapping[str, FieldSpec],
        obj: Mapping[str, Any],
        prefix: str,
        ctx: _Ctx,
        newer: Iterable[str] = (),
    ) -> None:
        allowed_newer = set(newer) if self.allow_newer else set()
        for key in obj:
            if key not in fields and key not in allowed_newer:
                what = "parameter" if not prefix else "field"
                ctx.add(
                    _join(prefix, key),
                    f'unknown {what} "{key}" for {owner} (not in Bot API {self.spec.version})',
                    f'Bad Request: unknown {what} "{key}"',
                    code="unknown_param",
                )
        for name, fs in fields.items():
            path = _join(prefix, name)
            present = name in obj and obj[name] is not None
            if not present:
                if fs.required:
                    ctx.add(
                        path, f"{owner}.{name} is required", _missing_description(owner, name), code="missing"
                    )
                elif fs.required_unless and not all(
                    obj.get(other) is not None for other in fs.required_unless
                ):
                    ctx.add(
                        path,
                        f"{owner}.{name} is required unless {' and '.join(fs.required_unless)} given",
                        _missing_description(owner, name),
                        code="missing",
                    )
                continue
            before = len(ctx.out)
            self._check(fs.types, obj[name], path, ctx)
            if len(ctx.out) == before:
                self._check_constraints(owner, fs, obj[name], path, obj, ctx)

    def _check(self, types: Sequence[str], value: Any, path: str, ctx: _Ctx) -> None:
        if len(types) == 1:
            self._check_one(types[0], value, path, ctx)
            return
        best: list[Violation] | None = None
        best_score: tuple[int, int] | None = None
        for t in types:
            trial = _Ctx(ctx.method, ctx.request)
            self._check_one(t, value, path, trial)
            if not trial.out:
                return
            score = (0 if self._plausible(t, value) else 1, len(trial.out))
            if best_score is None or score < best_score:
                best, best_score = trial.out, score
        assert best is not None
        if best_score is not None and best_score[0] == 1:
            ctx.add(path, f"{path or 'value'} must be of type {' or '.join(types)}", code="type")
        else:
            ctx.out.extend(best)

    def _plausible(self, type_name: str, value: Any) -> bool:
        """Whether ``value`` has the shape of ``type_name`` (used to pick the error to report)."""
        inner = _split_array(type_name)
        if inner is not None:
            return isinstance(value, list)
        if type_name in PRIMITIVES:
            return _primitive_ok(type_name, value)
        ts = self.spec.types.get(type_name)
        if ts is None or not isinstance(value, dict):
            return False
        if ts.discriminator is not None:
            return value.get(ts.discriminator[0]) == ts.discriminator[1]
        return all(name in value for name, f in ts.fields.items() if f.required)

    def _check_one(self, type_name: str, value: Any, path: str, ctx: _Ctx) -> None:
        inner = _split_array(type_name)
        if inner is not None:
            if not isinstance(value, list):
                ctx.add(path, f"{path or 'value'} must be an Array of {inner}", code="type")
                return
            for i, item in enumerate(value):
                self._check((inner,), item, f"{path}[{i}]", ctx)
            return
        if type_name in PRIMITIVES:
            if type_name == "InputFile" and not ctx.request:
                ctx.add(path, "InputFile is not valid in a response", code="type")
            elif not _primitive_ok(type_name, value):
                ctx.add(
                    path, f"{path or 'value'} must be of type {type_name}, got {_kind(value)}", code="type"
                )
            return
        ts = self.spec.types.get(type_name)
        if ts is None:
            ctx.add(path, f"unknown type {type_name} in spec", code="spec")
            return
        if ts.subtypes:
            self._check_union_parent(ts, value, path, ctx)
            return
        if ctx.request and type_name == "KeyboardButton" and isinstance(value, str):
            return  # "For simple text buttons, String can be used instead of this object"
        if not isinstance(value, dict):
            ctx.add(path, f"{path or 'value'} must be a {type_name} object, got {_kind(value)}", code="type")
            return
        if ts.discriminator is not None:
            key, expected = ts.discriminator
            if value.get(key) != expected:
                ctx.add(_join(path, key), f'{type_name}.{key} must be "{expected}"', code="discriminator")
        self._check_fields(type_name, ts.fields, value, path, ctx, newer=NEWER_TYPE_FIELDS.get(type_name, ()))
        if ctx.request:
            self._object_rules(ts, value, path, ctx)

    def _check_union_parent(self, ts: TypeSpec, value: Any, path: str, ctx: _Ctx) -> None:
        members = [self.spec.types[s] for s in ts.subtypes if s in self.spec.types]
        discriminated = [m for m in members if m.discriminator is not None]
        if isinstance(value, dict) and discriminated and len(discriminated) == len(members):
            key = discriminated[0].discriminator[0]  # type: ignore[index]
            tag = value.get(key)
            for m in discriminated:
                if m.discriminator == (key, tag):
                    self._check_one(m.name, value, path, ctx)
                    return
            known = ", ".join(m.discriminator[1] for m in discriminated)  # type: ignore[index]
            ctx.add(
                _join(path, key),
                f"{ts.name}.{key} must be one of {known}, got {tag!r}",
                f"Bad Request: unsupported {ts.name} {key} {tag!r}" if tag is not None else None,
                code="discriminator",
            )
            return
        self._check(ts.subtypes, value, path, ctx)

    def _object_rules(self, ts: TypeSpec, value: Mapping[str, Any], path: str, ctx: _Ctx) -> None:
        if ts.button_rule is not None:
            mode, passive = ts.button_rule
            actions = [k for k, v in value.items() if k not in passive and v is not None and v is not False]
            if mode == "exactly" and len(actions) != 1:
                if not actions:
                    ctx.add(
                        path,
                        f"{ts.name} needs exactly one action field (callback_data, url, ...), got none",
                        "Bad Request: can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard",
                        code="button",
                    )
                else:
                    ctx.add(
                        path,
                        f"{ts.name} needs exactly one action field, got {', '.join(actions)}",
                        "Bad Request: can't parse inline keyboard button: "
                        f"exactly one of the fields {', '.join(actions)} must be used",
                        code="button",
                    )
            if mode == "at_most" and len(actions) > 1:
                ctx.add(
                    path,
                    f"{ts.name} allows at most one action field, got {', '.join(actions)}",
                    "Bad Request: can't parse keyboard button: "
                    f"at most one of the fields {', '.join(actions)} can be used",
                    code="button",
                )
        if not self.community_rules:
            return
        if ts.name in ("InlineKeyboardMarkup", "ReplyKeyboardMarkup"):
            rows = value.get("inline_keyboard" if ts.name == "InlineKeyboardMarkup" else "keyboard")
            if not isinstance(rows, list):
                return
            max_total, max_row = (
                (self.INLINE_MAX_BUTTONS, self.INLINE_MAX_ROW)
                if ts.name == "InlineKeyboardMarkup"
                else (self.REPLY_MAX_BUTTONS, self.REPLY_MAX_ROW)
            )
            total = sum(len(r) for r in rows if isinstance(r, list))
            widest = max((len(r) for r in rows if isinstance(r, list)), default=0)
            size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
            if total > max_total or widest > max_row or size > self.MARKUP_MAX_BYTES:
                ctx.add(
                    path,
                    f"{ts.name} too large: {total} buttons (max {max_total}), widest row {widest} "
                    f"(max {max_row}), {size} bytes (max {self.MARKUP_MAX_BYTES}) [community-reported caps]",
                    "Bad Request: reply markup is too long",
                    code="markup_size",
                )

    def _check_constraints(
        self,
        owner: str,
        fs: FieldSpec,
        value: Any,
        path: str,
        siblings: Mapping[str, Any],
        ctx: _Ctx,
    ) -> None:
        for c in fs.constraints:
            if fs.name == "secret_token" and value == "":
                continue  # an empty secret token means "no token" on the real server
            if c.kind == "chars" and isinstance(value, str):
                text = value
                if c.after_entities:
                    mode_field = (
                        f"{fs.name}_parse_mode" if f"{fs.name}_parse_mode" in siblings else "parse_mode"
                    )
                    mode = siblings.get(mode_field)
                    entities_field = (
                        f"{fs.name}_entities" if f"{fs.name}_entities" in siblings else "entities"
                    )
                    if siblings.get(entities_field):
                        mode = None  # explicit entities win over parse_mode; the text is taken as is
                    if mode is not None and not isinstance(mode, str):
                        continue  # reported as a type error on the parse mode field
                    try:
                        text = parse_entities(value, mode).text
                    except EntityParseError as exc:
                        ctx.add(
                            path,
                            f"{path}: can't parse entities: {exc}",
                            f"Bad Request: can't parse entities: {exc}",
                            code="entities",
                        )
                        continue
                    except ValueError:
                        ctx.add(
                            mode_field,
                            f"unsupported parse_mode {mode!r}",
                            "Bad Request: unsupported parse_mode",
                        )
                        continue
                length = utf16_len(text)
                if length < c.low or length > c.high:
                    ctx.add(
                        path,
                        f"{path} is {length} UTF-16 code units long, allowed {c.low}-{c.high}",
                        _length_description(owner, fs.name, "chars", length > c.high, c.low, c.high),
                        code="length",
                    )
            elif c.kind == "bytes" and isinstance(value, str):
                length = len(value.encode("utf-8"))
                if length < c.low or length > c.high:
                    ctx.add(
                        path,
                        f"{path} is {length} bytes long in UTF-8, allowed {c.low}-{c.high}",
                        _length_description(owner, fs.name, "bytes", length > c.high, c.low, c.high),
                        code="length",
                    )
            elif c.kind == "range" and isinstance(value, int) and not isinstance(value, bool):
                if value < c.low or value > c.high:
                    ctx.add(
                        path,
                        f"{path} must be between {c.low} and {c.high}, got {value}",
                        f'Bad Request: parameter "{fs.name}" must be between {c.low} and {c.high}',
                        code="range",
                    )
            elif c.kind == "items" and isinstance(value, list):
                if len(value) < c.low or len(value) > c.high:
                    ctx.add(
                        path,
                        f"{path} must have {c.low}-{c.high} items, got {len(value)}",
                        "Bad Request: BOT_COMMANDS_TOO_MUCH"
                        if fs.name == "commands" and len(value) > c.high
                        else f'Bad Request: parameter "{fs.name}" must have {c.low}-{c.high} items',
                        code="items",
                    )
            elif c.kind == "charset" and isinstance(value, str):
                if not re.fullmatch(c.pattern, value):
                    ctx.add(
                        path,
                        f"{path} may only contain {c.pattern}, got {value!r}",
                        _charset_description(owner, fs.name),
                        code="charset",
                    )
            elif c.kind == "language" and isinstance(value, str):
                if value and not re.fullmatch(r"[a-z]{2}", value):
                    ctx.add(
                        path,
                        f"{path} must be a two-letter ISO 639-1 code or empty, got {value!r}",
                        "Bad Request: invalid language code specified",
                        code="language",
                    )
            elif c.kind == "enum" and isinstance(value, str) and value not in c.values:
                ctx.add(
                    path,
                    f"{path} must be one of {', '.join(c.values)}, got {value!r}",
                    f'Bad Request: parameter "{fs.name}" has unsupported value {value!r}',
                    code="enum",
                )


def _primitive_ok(type_name: str, value: Any) -> bool:
    if type_name == "Integer":
        return isinstance(value, int) and not isinstance(value, bool) and -INT64_MAX - 1 <= value <= INT64_MAX
    if type_name == "Float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "Boolean":
        return isinstance(value, bool)
    if type_name == "True":
        return value is True
    if type_name == "String":
        return isinstance(value, str)
    if type_name == "InputFile":
        return isinstance(value, FilePart)
    return False


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, FilePart):
        return "InputFile"
    return type(value).__name__


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


@lru_cache(maxsize=1)
def _default_validator() -> Validator:
    return Validator()


def validate_request(method: str, params: Mapping[str, Any]) -> list[Violation]:
    """Validate one Bot API call with the default (strict, 10.1 + allow-list) validator."""
    return _default_validator().validate_request(method, params)


def validate_object(type_name: str | Sequence[str], value: Any) -> list[Violation]:
    """Validate a response object (``"Message"``, ``"Array of Update"``, ...) against the spec."""
    return _default_validator().validate_object(type_name, value)
