"""All mutable state of one emulated bot, shared by the Bot API methods, the simulation and the server."""

from __future__ import annotations

import mimetypes
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from sandbox.clock import VirtualClock
from sandbox.errors import (
    BLOCKED,
    CHAT_NOT_FOUND,
    DEACTIVATED,
    KICKED_FROM_GROUP,
    KICKED_FROM_SUPERGROUP,
    ApiError,
)
from sandbox.limits import FaultInjector, RateLimiter
from sandbox.spec import Violation
from sandbox.updates import UpdateHub
from sandbox.world import (
    CallbackAnswer,
    CallbackQueryRecord,
    ChatEvent,
    ChatLog,
    FileRecord,
    Notifier,
    Sender,
    SimChat,
    SimUser,
    StoredMessage,
    image_size,
    make_file_ids,
)

__all__ = ["TOKEN_RE", "CallRecord", "EmulatorState", "Stats"]

#: The shape of a bot token the reference server accepts: "<bot id>:<secret>".
TOKEN_RE = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{1,128}")


@dataclass(frozen=True)
class CallRecord:
    """One Bot API request as the emulator saw it (``source`` is "http" or "webhook_reply")."""

    seq: int
    method: str
    params: dict[str, Any]
    time: float
    status: int
    ok: bool
    description: str | None
    result: Any
    source: str


@dataclass
class Stats:
    """Counters for assertions such as "the broadcaster never hit flood control"."""

    requests: int = 0
    too_many_requests: int = 0
    server_errors: int = 0
    slow_responses: int = 0
    lost_responses: int = 0
    responses_validated: int = 0
    updates_validated: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_method: Counter[str] = field(default_factory=Counter)
    #: Virtual times of successful message sends, for :meth:`max_send_rate`.
    send_times: list[float] = field(default_factory=list)

    def max_send_rate(self, window: float = 1.0) -> int:
        """Most successful sends observed within any ``window`` seconds of virtual time."""
        times = sorted(self.send_times)
        best = 0
        start = 0
        for end, t in enumerate(times):
            while t - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best


CommandScopeKey = tuple[Any, ...]


class EmulatorState:
    """Users, chats, transcripts, files, bot settings and the records tests assert on."""

    def __init__(self, *, token: str, clock: VirtualClock, hub: UpdateHub, notifier: Notifier) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.clock = clock
        self.hub = hub
        self.notifier = notifier
        self.bot_first_name = "Cunmin Test Bot"
        self.bot_username = "cunmin_test_bot"
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, SimChat] = {}
        self.logs: dict[int, ChatLog] = {}
        self.files: dict[str, FileRecord] = {}
        self.files_by_path: dict[str, FileRecord] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.callback_answers: list[CallbackAnswer] = []
        self.commands: dict[tuple[CommandScopeKey, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.violations: list[Violation] = []
        self.response_violations: list[Violation] = []
        self.unsupported_calls: list[str] = []
        self.calls: list[CallRecord] = []
        self.stats = Stats()
        self.limiter = RateLimiter()
        self.rate_limits_enabled = False
        self.paid_broadcast = False
        self.faults: FaultInjector | None = None
        self.strict_webhook_urls = False
        self._next_user_id = 7_000_000_001
        self._next_group = 1
        self._next_file = 1
        self._next_query = 1

    # ---------------------------------------------------------------------------------- bot user

    def bot_user(self, *, full: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }
        if full:
            out.update(
                can_join_groups=True,
                can_read_all_group_messages=True,
                supports_inline_queries=False,
                can_connect_to_business=False,
                has_main_web_app=False,
            )
        return out

    # ------------------------------------------------------------------------------ users & chats

    def new_user(
        self, first_name: str, last_name: str | None, username: str | None, language_code: str | None
    ) -> SimUser:
        user = SimUser(self._next_user_id, first_name, last_name, username, language_code)
        self._next_user_id += 7919  # sparse, > 32 bits, < 2**52: like real ids
        self.users[user.id] = user
        self.chats[user.id] = SimChat(user.id, "private", user=user, member_ids=[user.id])
        return user

    def new_group(
        self, title: str, members: list[SimUser], *, supergroup: bool, username: str | None
    ) -> SimChat:
        n = self._next_group
        self._next_group += 1
        chat_id = -(1_002_000_000_000 + n) if supergroup else -(4_000_000_000 + n)
        chat = SimChat(
            chat_id,
            "supergroup" if supergroup else "group",
            title=title,
            username=username,
            member_ids=[m.id for m in members],
        )
        self.chats[chat_id] = chat
        return chat

    def find_chat(self, chat_id: Any) -> SimChat:
        """Resolve a ``chat_id`` parameter (integer or "@username") or fail with "chat not found"."""
        if isinstance(chat_id, str):
            if chat_id.startswith("@"):
                for chat in self.chats.values():
                    if (
                        chat.type != "private"
                        and chat.username
                        and chat.username.lower() == chat_id[1:].lower()
                    ):
                        return chat
                raise ApiError(400, CHAT_NOT_FOUND)
            try:
                chat_id = int(chat_id)
            except ValueError:
                raise ApiError(400, CHAT_NOT_FOUND) from None
        found = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if found is None:
            raise ApiError(400, CHAT_NOT_FOUND)
        chat = found
        if chat.type == "private" and chat.user is not None and not chat.user.started:
            raise ApiError(400, CHAT_NOT_FOUND)
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=chat.migrated_to,
            )
        return chat

    def check_can_send(self, chat: SimChat) -> None:
        """Refuse messages to users who deactivated their account or blocked the bot, and to groups the
        bot was removed from."""
        if not chat.bot_is_member:
            raise ApiError(403, KICKED_FROM_SUPERGROUP if chat.type == "supergroup" else KICKED_FROM_GROUP)
        user = chat.user
        if chat.type == "private" and user is not None:
            if user.deactivated:
                raise ApiError(403, DEACTIVATED)
            if user.blocked:
                raise ApiError(403, BLOCKED)

    def chat_id_of(self, chat: int | SimUser | SimChat) -> int:
        if isinstance(chat, SimUser):
            return chat.id
        if isinstance(chat, SimChat):
            return chat.id
        return chat

    def log(self, chat_id: int) -> ChatLog:
        log = self.logs.get(chat_id)
        if log is None:
            log = self.logs[chat_id] = ChatLog(chat_id)
        return log

    # ---------------------------------------------------------------------------------- messages

    def add_message(
        self,
        chat: SimChat,
        sender: Sender,
        from_user: dict[str, Any],
        content: dict[str, Any],
        *,
        markup: dict[str, Any] | None = None,
        files: tuple[FileRecord, ...] = (),
    ) -> tuple[StoredMessage, ChatEvent]:
        """Store a new message (either direction) and record it in the chat's activity."""
        log = self.log(chat.id)
        message_id = log.allocate_id()
        json_msg: dict[str, Any] = {
            "message_id": message_id,
            "from": from_user,
            "chat": chat.to_api(),
            "date": self.clock.now(),
        }
        json_msg.update(content)
        if markup is not None and "inline_keyboard" in markup:
            json_msg["reply_markup"] = markup
        stored = StoredMessage(chat.id, message_id, sender, json_msg, markup, files=files)
        log.messages[message_id] = stored
        event = log.record(stored, "message")
        self.notifier.notify()
        return stored, event

    def get_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        log = self.logs.get(chat_id)
        if log is None:
            return None
        message = log.messages.get(message_id)
        if message is None or message.deleted:
            return None
        return message

    # ------------------------------------------------------------------------------------- files

    def store_file(
        self,
        data: bytes,
        kind: Literal["document", "photo"],
        file_name: str | None,
        mime_type: str | None,
    ) -> FileRecord:
        seq = self._next_file
        self._next_file += 1
        file_id, unique_id = make_file_ids(seq, data, kind)
        if kind == "document" and (mime_type in (None, "", "application/octet-stream")) and file_name:
            mime_type = mimetypes.guess_type(file_name)[0] or mime_type
        width = height = None
        if kind == "photo":
            size = image_size(data)
            if size is not None:
                width, height = size
        extension = (
            file_name.rsplit(".", 1)[-1]
            if file_name and "." in file_name
            else "jpg"
            if kind == "photo"
            else ""
        )
        folder = "documents" if kind == "document" else "photos"
        file_path = f"{folder}/file_{seq}" + (f".{extension}" if extension else "")
        record = FileRecord(
            file_id=file_id,
            file_unique_id=unique_id,
            data=data,
            kind=kind,
            file_path=file_path,
            file_name=file_name if kind == "document" else None,
            mime_type=mime_type if kind == "document" else None,
            width=width,
            height=height,
        )
        self.files[file_id] = record
        self.files_by_path[file_path] = record
        return record

    # --------------------------------------------------------------------------------- callbacks

    def new_callback_query(
        self, user: SimUser, chat_id: int, message_id: int, data: str | None
    ) -> CallbackQueryRecord:
        query_id = str(self.bot_id * 1_000_003 + self._next_query)
        self._next_query += 1
        record = CallbackQueryRecord(query_id, user.id, chat_id, message_id, data, self.clock.time())
        self.callback_queries[query_id] = record
        return record

    # ------------------------------------------------------------------------------------ updates

    def enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        return self.hub.enqueue(kind, payload)
