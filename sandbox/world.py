"""The simulated Telegram world behind the emulator: users, chats, messages, files and what was said.

Everything here is plain in-memory state that is changed synchronously; the only asynchronous part
is :class:`Notifier`, which lets tests and long polls wait for a state change without sleeping.
Transcripts keep every message in both directions with its edit history and a deleted flag, so an
end-to-end test can assert on exactly what a villager would have seen.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Activity",
    "ButtonRef",
    "CallbackAnswer",
    "CallbackQueryRecord",
    "ChatEvent",
    "ChatLog",
    "EditRecord",
    "FileInfo",
    "FileRecord",
    "Notifier",
    "SimChat",
    "SimUser",
    "StoredMessage",
    "image_size",
    "make_file_ids",
]

Sender = Literal["bot", "user"]
ActivityKind = Literal["message", "edit", "delete"]


class Notifier:
    """Wake every waiter whenever the world changes; waiters re-check their own predicate.

    A fresh ``asyncio.Event`` per generation avoids the lost-wake-up race of clear()/wait(): a waiter
    grabs the current event *before* it awaits, with no await between checking and grabbing.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.version = 0

    def notify(self) -> None:
        self.version += 1
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float | None = None,  # noqa: ASYNC109 - returns False on timeout instead of raising
    ) -> bool:
        """Wait until ``predicate()`` is true; return False if ``timeout`` (real seconds) expires first."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            if predicate():
                return True
            event = self._event
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return predicate()


# ------------------------------------------------------------------------------------ users & chats


@dataclass(eq=False)
class SimUser:
    """A simulated Telegram user. Their private chat with the bot has ``chat_id == id``."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "zh-hans"
    is_bot: bool = False
    #: The user has talked to the bot at least once; before that sends fail with "chat not found".
    started: bool = False
    blocked: bool = False
    deactivated: bool = False

    @property
    def chat_id(self) -> int:
        return self.id

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def to_api(self) -> dict[str, Any]:
        """The ``User`` object as it appears in updates."""
        out: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        return out


ChatType = Literal["private", "group", "supergroup", "channel"]


@dataclass(eq=False)
class SimChat:
    """A chat the bot can see: a private chat with a user, a group or a supergroup."""

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    user: SimUser | None = None
    member_ids: list[int] = field(default_factory=list)
    #: Users with status "administrator"; the first member is the "creator".
    admin_ids: set[int] = field(default_factory=set)
    #: Set when a group was upgraded to a supergroup: sends to it then fail with migrate_to_chat_id.
    migrated_to: int | None = None
    #: The bot's own status in a group: "administrator" (as created), "member", or "kicked" once a
    #: member removed it (sends then fail with 403 and its messages no longer reach it).
    bot_status: str = "administrator"

    @property
    def bot_is_member(self) -> bool:
        return self.type == "private" or self.bot_status in ("administrator", "member")

    def to_api(self) -> dict[str, Any]:
        """The ``Chat`` object as it appears in messages."""
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private" and self.user is not None:
            out["first_name"] = self.user.first_name
            if self.user.last_name:
                out["last_name"] = self.user.last_name
            if self.user.username:
                out["username"] = self.user.username
        else:
            out["title"] = self.title or ""
            if self.username:
                out["username"] = self.username
        return out


# ----------------------------------------------------------------------------------------- files


@dataclass(frozen=True)
class FileInfo:
    """What a transcript shows about a document or photo; the bytes are in ``emu.file_bytes(file_id)``."""

    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    size: int
    width: int | None = None
    height: int | None = None


@dataclass
class FileRecord:
    file_id: str
    file_unique_id: str
    data: bytes = field(repr=False)
    kind: Literal["document", "photo"]
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    def info(self) -> FileInfo:
        return FileInfo(
            self.file_id,
            self.file_unique_id,
            self.file_name,
            self.mime_type,
            self.size,
            self.width,
            self.height,
        )

    def document_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.file_name:
            out["file_name"] = self.file_name
        if self.mime_type:
            out["mime_type"] = self.mime_type
        out["file_size"] = self.size
        return out

    def photo_json(self) -> list[dict[str, Any]]:
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": self.width or 0,
                "height": self.height or 0,
                "file_size": self.size,
            }
        ]


def make_file_ids(seq: int, data: bytes, kind: str) -> tuple[str, str]:
    """Realistic-looking identifiers: ``file_id`` unique per upload, ``file_unique_id`` per content."""
    prefix = b"\x05" if kind == "document" else b"\x02"
    digest = hashlib.sha256(data).digest()
    raw_id = prefix + struct.pack(">Q", seq) + hashlib.sha256(struct.pack(">Q", seq) + digest).digest()[:24]
    file_id = ("BQACAgIAAxkBAAI" if kind == "document" else "AgACAgIAAxkBAAI") + base64.urlsafe_b64encode(
        raw_id
    ).decode().rstrip("=")
    file_unique_id = "AgAD" + base64.urlsafe_b64encode(digest[:9]).decode()
    return file_id, file_unique_id


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF, JPEG, WebP or BMP image; None if not recognisable as one."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return int(w), int(h)
    if data[:2] == b"BM" and len(data) >= 26:
        w, h = struct.unpack("<ii", data[18:26])
        return abs(int(w)), abs(int(h))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            w = 1 + int.from_bytes(data[24:27], "little")
            h = 1 + int.from_bytes(data[27:30], "little")
            return w, h
        if chunk == b"VP8 ":
            w, h = struct.unpack("<HH", data[26:30])
            return int(w) & 0x3FFF, int(h) & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        return None
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            length = int.from_bytes(data[i + 2 : i + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                h = int.from_bytes(data[i + 5 : i + 7], "big")
                w = int.from_bytes(data[i + 7 : i + 9], "big")
                return w, h
            i += 2 + length
    return None


# ------------------------------------------------------------------------------------- transcript


@dataclass(frozen=True)
class EditRecord:
    """A previous version of an edited message."""

    date: int
    text: str | None
    caption: str | None
    reply_markup: Mapping[str, Any] | None


@dataclass(frozen=True)
class ButtonRef:
    """An inline button as seen by the user: its row/column, label and callback data (or url)."""

    row: int
    column: int
    text: str
    callback_data: str | None
    url: str | None


@dataclass(frozen=True)
class ChatEvent:
    """One message in a chat, as seen at some moment (both directions, edits applied).

    ``kind`` says what produced this snapshot: the message being sent, an edit, or a deletion.
    ``edits`` holds the earlier versions, oldest first. ``reply_markup`` is whatever markup was sent
    with the message (inline keyboards, reply keyboards, ReplyKeyboardRemove, ForceReply), while
    ``raw`` is the Message JSON, which like Telegram's carries only inline keyboards.
    """

    chat_id: int
    message_id: int
    sender: Sender
    user_id: int | None
    date: int
    text: str | None
    caption: str | None
    entities: tuple[Mapping[str, Any], ...]
    reply_markup: Mapping[str, Any] | None
    document: FileInfo | None
    photo: FileInfo | None
    contact: Mapping[str, Any] | None
    edits: tuple[EditRecord, ...]
    edit_date: int | None
    deleted: bool
    kind: ActivityKind
    raw: Mapping[str, Any]

    @property
    def content(self) -> str:
        """Text or caption, whichever the message has ("" for neither)."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def is_edit(self) -> bool:
        return self.kind == "edit"

    def buttons(self) -> list[ButtonRef]:
        """Inline keyboard buttons, row by row."""
        markup = self.reply_markup or {}
        out: list[ButtonRef] = []
        for r, row in enumerate(markup.get("inline_keyboard") or []):
            for c, button in enumerate(row):
                out.append(
                    ButtonRef(r, c, button.get("text", ""), button.get("callback_data"), button.get("url"))
                )
        return out

    @property
    def button_texts(self) -> list[str]:
        return [b.text for b in self.buttons()]

    @property
    def callback_datas(self) -> list[str]:
        return [b.callback_data for b in self.buttons() if b.callback_data is not None]

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the control API."""

        def file(info: FileInfo | None) -> dict[str, Any] | None:
            return None if info is None else dict(info.__dict__)

        return {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "sender": self.sender,
            "user_id": self.user_id,
            "date": self.date,
            "text": self.text,
            "caption": self.caption,
            "entities": [dict(e) for e in self.entities],
            "reply_markup": self.reply_markup,
            "document": file(self.document),
            "photo": file(self.photo),
            "contact": self.contact,
            "edits": [dict(e.__dict__) for e in self.edits],
            "edit_date": self.edit_date,
            "deleted": self.deleted,
            "kind": self.kind,
        }

    def reply_keyboard(self) -> list[list[Mapping[str, Any]]]:
        """Reply keyboard buttons (strings normalised to ``{"text": ...}``), or [] if none."""
        markup = self.reply_markup or {}
        rows = markup.get("keyboard") or []
        return [[{"text": b} if isinstance(b, str) else b for b in row] for row in rows]


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    sender: Sender
    json: dict[str, Any]
    markup: dict[str, Any] | None
    history: list[EditRecord] = field(default_factory=list)
    deleted: bool = False
    files: tuple[FileRecord, ...] = ()

    def snapshot(self, kind: ActivityKind) -> ChatEvent:
        j = self.json
        document = next((f.info() for f in self.files if f.kind == "document"), None)
        photo = next((f.info() for f in self.files if f.kind == "photo"), None)
        from_ = j.get("from") or {}
        return ChatEvent(
            chat_id=self.chat_id,
            message_id=self.message_id,
            sender=self.sender,
            user_id=from_.get("id"),
            date=int(j["date"]),
            text=j.get("text"),
            caption=j.get("caption"),
            entities=tuple(j.get("entities") or j.get("caption_entities") or ()),
            reply_markup=self.markup,
            document=document,
            photo=photo,
            contact=j.get("contact"),
            edits=tuple(self.history),
            edit_date=j.get("edit_date"),
            deleted=self.deleted,
            kind=kind,
            raw=dict(j),
        )


@dataclass(frozen=True)
class Activity:
    """Something that happened in a chat, in order: a message, an edit or a deletion."""

    seq: int
    sender: Sender
    event: ChatEvent


@dataclass
class ChatLog:
    """Everything that happened in one chat."""

    chat_id: int
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    activity: list[Activity] = field(default_factory=list)
    next_message_id: int = 1
    #: Index into ``activity`` of the first entry that ``wait_for`` has not yet consumed.
    cursor: int = 0
    #: (virtual time, action) for every sendChatAction.
    actions: list[tuple[float, str]] = field(default_factory=list)

    def allocate_id(self) -> int:
        mid = self.next_message_id
        self.next_message_id += 1
        return mid

    def record(self, message: StoredMessage, kind: ActivityKind) -> ChatEvent:
        event = message.snapshot(kind)
        self.activity.append(Activity(len(self.activity), message.sender, event))
        return event

    def transcript(self) -> list[ChatEvent]:
        return [m.snapshot("message") for m in sorted(self.messages.values(), key=lambda m: m.message_id)]


# ------------------------------------------------------------------------------------- callbacks


@dataclass(frozen=True)
class CallbackAnswer:
    """What the bot answered to a callback query (answerCallbackQuery)."""

    callback_query_id: str
    user_id: int
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    date: float


@dataclass
class CallbackQueryRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str | None
    date: float
    answer: CallbackAnswer | None = None


def button_matches(button: Mapping[str, Any], callback_data: str | None, text: str | None) -> bool:
    if callback_data is not None and button.get("callback_data") != callback_data:
        return False
    return not (text is not None and button.get("text") != text)


def find_button(
    markup: Mapping[str, Any] | None, callback_data: str | None, text: str | None
) -> Mapping[str, Any] | None:
    rows: Sequence[Sequence[Mapping[str, Any]]] = (markup or {}).get("inline_keyboard") or []
    for row in rows:
        for button in row:
            if button_matches(button, callback_data, text):
                return button
    return None
