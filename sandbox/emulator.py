"""A local Telegram Bot API emulator for Cunmin's contract and end-to-end tests.

Why: the bot must be tested against something that behaves like Telegram — strict about what it
accepts, realistic in what it returns, with real long polling, webhooks, flood control and the
errors a villagers' bot meets in practice (blocked users, unknown chats, stale callback queries) —
without network access. The real ``aiogram.Bot`` talks to it over HTTP on 127.0.0.1::

    async with Emulator(token="123456:ABC-DEF") as emu:
        bot = Bot(emu.token, session=AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url)))
        villager = emu.create_user("Li", language_code="zh-hans")
        await emu.user_starts(villager, payload="invite_42")
        reply = await emu.wait_for(villager)        # the bot's next message in that chat

Run standalone (for a web chat client or manual poking)::

    python -m sandbox.emulator --port 8081 --token 123456:ABC-DEF
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from sandbox.clock import VirtualClock
from sandbox.errors import ApiError
from sandbox.limits import FaultInjector, FaultPlan, RateLimitConfig
from sandbox.methods import BotApi
from sandbox.server import build_app
from sandbox.spec import FilePart, Spec, Validator, Violation, load_spec
from sandbox.state import TOKEN_RE, CallRecord, EmulatorState, Stats
from sandbox.updates import UpdateHub, WebhookAttempt
from sandbox.world import (
    CallbackAnswer,
    ChatEvent,
    Notifier,
    SimChat,
    SimUser,
    StoredMessage,
    find_button,
)

__all__ = ["Emulator", "FaultPlan", "RateLimitConfig", "main"]

START_PAYLOAD_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")

ChatRef = int | SimUser | SimChat
MessageRef = int | ChatEvent


class Emulator:
    """One emulated bot: an aiohttp server plus a scriptable world of users and chats.

    ``rate_limits``: ``True`` for the default flood-control figures, a :class:`RateLimitConfig` for
    custom ones, ``False`` (default) for functional tests; toggle at runtime via ``emu.rate_limits``.
    ``faults``: a seeded :class:`FaultPlan` (502s, slow answers, ...) or ``None``.
    ``clock``: a :class:`VirtualClock`; freeze or speed it up to control dates, retention, flood
    control and webhook backoff.
    ``strict_webhook_urls``: enforce HTTPS and ports 443/80/88/8443 (default: local-server rules,
    loopback HTTP on any port).
    """

    def __init__(
        self,
        token: str = "123456:ABC-DEF",
        *,
        rate_limits: bool | RateLimitConfig = False,
        faults: FaultPlan | None = None,
        clock: VirtualClock | None = None,
        paid_broadcast: bool = False,
        strict_webhook_urls: bool = False,
        allow_newer_params: bool = True,
        community_rules: bool = True,
        webhook_retry_base: float = 1.0,
        webhook_retry_max: float = 60.0,
        callback_answer_timeout: float = 15.0,
        bot_username: str = "cunmin_test_bot",
        bot_first_name: str = "Cunmin Test Bot",
        spec: Spec | None = None,
    ) -> None:
        if not TOKEN_RE.fullmatch(token):
            raise ValueError(f"malformed bot token {token!r}: expected '<digits>:<[A-Za-z0-9_-]+>'")
        self.spec = spec or load_spec()
        self.validator = Validator(self.spec, allow_newer=allow_newer_params, community_rules=community_rules)
        self.clock = clock or VirtualClock()
        self.notifier = Notifier()
        self.hub = UpdateHub(
            clock=self.clock,
            notifier=self.notifier,
            update_kinds=[name for name in self.spec.types["Update"].fields if name != "update_id"],
            execute_reply=self._execute_webhook_reply,
            webhook_retry_base=webhook_retry_base,
            webhook_retry_max=webhook_retry_max,
        )
        self.state = EmulatorState(token=token, clock=self.clock, hub=self.hub, notifier=self.notifier)
        self.state.bot_username = bot_username
        self.state.bot_first_name = bot_first_name
        self.state.paid_broadcast = paid_broadcast
        self.state.strict_webhook_urls = strict_webhook_urls
        self.api = BotApi(self.state, self.spec, self.validator, callback_timeout=callback_answer_timeout)
        self.rate_limits = rate_limits
        self.faults = faults
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    # ================================================================================ lifecycle

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` once started (give it to ``TelegramAPIServer.from_base``)."""
        if self._base_url is None:
            raise RuntimeError("the emulator is not started")
        return self._base_url

    @property
    def api_url(self) -> str:
        """``{base_url}/bot{token}``: prefix of every Bot API call."""
        return f"{self.base_url}/bot{self.token}"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on ``host:port`` (port 0 picks a free ephemeral port)."""
        if self._runner is not None:
            raise RuntimeError("already started")
        # A short shutdown timeout: a long poll still parked in a handler must not delay stop().
        runner = web.AppRunner(build_app(self), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        actual_port = int(runner.addresses[0][1])
        self._runner = runner
        shown_host = f"[{host}]" if ":" in host else host
        self._base_url = f"http://{shown_host}:{actual_port}"

    async def stop(self) -> None:
        await self.hub.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._base_url = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ============================================================================= configuration

    @property
    def rate_limits(self) -> bool:
        return self.state.rate_limits_enabled

    @rate_limits.setter
    def rate_limits(self, value: bool | RateLimitConfig) -> None:
        if isinstance(value, RateLimitConfig):
            self.state.limiter.config = value
            self.state.limiter.reset()
            self.state.rate_limits_enabled = True
        else:
            if value and not self.state.rate_limits_enabled:
                self.state.limiter.reset()
            self.state.rate_limits_enabled = bool(value)

    @property
    def rate_limit_config(self) -> RateLimitConfig:
        return self.state.limiter.config

    @rate_limit_config.setter
    def rate_limit_config(self, config: RateLimitConfig) -> None:
        self.state.limiter.config = config
        self.state.limiter.reset()

    @property
    def paid_broadcast(self) -> bool:
        return self.state.paid_broadcast

    @paid_broadcast.setter
    def paid_broadcast(self, value: bool) -> None:
        self.state.paid_broadcast = value

    @property
    def faults(self) -> FaultPlan | None:
        return self.state.faults.plan if self.state.faults is not None else None

    @faults.setter
    def faults(self, plan: FaultPlan | None) -> None:
        self.state.faults = FaultInjector(plan) if plan is not None else None

    # ================================================================================= records

    @property
    def bot(self) -> dict[str, Any]:
        """The bot's ``User`` object (what getMe returns)."""
        return self.state.bot_user(full=True)

    @property
    def violations(self) -> list[Violation]:
        """Every rejected request: unknown methods, bad parameters, unsupported methods."""
        return self.state.violations

    @property
    def response_violations(self) -> list[Violation]:
        """Emulator bugs: results or updates that did not validate against the spec (should be [])."""
        return self.state.response_violations

    @property
    def unsupported_calls(self) -> list[str]:
        return self.state.unsupported_calls

    @property
    def calls(self) -> list[CallRecord]:
        """Every Bot API request in order, with parameters, virtual time, status and result."""
        return self.state.calls

    def calls_to(self, method: str) -> list[CallRecord]:
        return [c for c in self.state.calls if c.method.lower() == method.lower()]

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        return self.state.callback_answers

    @property
    def stats(self) -> Stats:
        return self.state.stats

    @property
    def webhook_attempts(self) -> list[WebhookAttempt]:
        return self.hub.webhook_attempts

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by getUpdates (or not yet delivered to the webhook)."""
        return [p.update for p in self.hub.pending]

    def webhook_info(self) -> dict[str, Any]:
        return self.hub.webhook_info()

    def commands(
        self,
        scope_type: str = "default",
        language_code: str = "",
        *,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Commands stored for exactly this scope and language (as getMyCommands would return)."""
        key: tuple[Any, ...] = (scope_type,)
        if chat_id is not None:
            key = (scope_type, chat_id) if user_id is None else (scope_type, chat_id, user_id)
        return [dict(c) for c in self.state.commands.get((key, language_code), [])]

    def resolve_commands(self, user: SimUser, chat: SimChat | None = None) -> list[dict[str, Any]]:
        """The command list a client shows ``user``, per "Determining list of commands"."""
        lang = (user.language_code or "")[:2]
        chain: list[tuple[Any, ...]]
        if chat is None or chat.type == "private":
            cid = user.id
            chain = [("chat", cid), ("all_private_chats",), ("default",)]
        else:
            cid = chat.id
            admin = user.id in chat.admin_ids or (chat.member_ids[:1] == [user.id])
            chain = [("chat_member", cid, user.id)]
            if admin:
                chain.append(("chat_administrators", cid))
            chain.append(("chat", cid))
            if admin:
                chain.append(("all_chat_administrators",))
            chain += [("all_group_chats",), ("default",)]
        languages = (lang, "") if lang else ("",)
        for key in chain:
            for language in languages:
                found = self.state.commands.get((key, language))
                if found:
                    return [dict(c) for c in found]
        return []

    def menu_button(self, chat_id: ChatRef | None = None) -> dict[str, Any] | None:
        """The menu button set for a private chat (or the default one for ``None``)."""
        key = None if chat_id is None else self.state.chat_id_of(chat_id)
        return self.state.menu_buttons.get(key)

    def description(self, language_code: str = "") -> str | None:
        return self.state.descriptions.get(language_code)

    def short_description(self, language_code: str = "") -> str | None:
        return self.state.short_descriptions.get(language_code)

    def chat_actions(self, chat_id: ChatRef) -> list[str]:
        """Every sendChatAction action sent to the chat, in order."""
        return [action for _, action in self.state.log(self.state.chat_id_of(chat_id)).actions]

    def file_bytes(self, file_id: str) -> bytes:
        """Content of an uploaded file (sent by the bot or by a simulated user)."""
        record = self.state.files.get(file_id)
        if record is None:
            raise KeyError(f"unknown file_id {file_id!r}")
        return record.data

    # =================================================================================== world

    @property
    def users(self) -> list[SimUser]:
        return list(self.state.users.values())

    @property
    def chats(self) -> list[SimChat]:
        return list(self.state.chats.values())

    def user(self, user_id: int) -> SimUser:
        return self.state.users[user_id]

    def chat(self, chat_id: int) -> SimChat:
        return self.state.chats[chat_id]

    def create_user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> SimUser:
        """A new user who has not talked to the bot yet (sends to them fail with "chat not found")."""
        return self.state.new_user(first_name, last_name, username, language_code)

    def create_group(
        self,
        title: str,
        members: Sequence[SimUser],
        *,
        supergroup: bool = False,
        username: str | None = None,
        admins: Sequence[SimUser] = (),
    ) -> SimChat:
        """A group the bot is a member (and administrator) of; the first member is its creator."""
        chat = self.state.new_group(title, list(members), supergroup=supergroup, username=username)
        chat.admin_ids.update(a.id for a in admins)
        return chat

    async def upgrade_group(self, group: SimChat, by: SimUser | None = None) -> SimChat:
        """Upgrade a basic group to a supergroup, as Telegram does when a group grows or changes.

        The supergroup has a new id (``-100…``), the same members and the bot in the same status. A
        bot still in the group receives the two service messages from ``by`` (default: the creator):
        ``migrate_to_chat_id`` in the old group, then ``migrate_from_chat_id`` in the new one. Every
        call with the old id then fails with 400 "Bad Request: group chat was upgraded to a supergroup
        chat" and ``parameters.migrate_to_chat_id`` (aiogram raises ``TelegramMigrateToChat``).
        """
        if group.type != "group" or group.migrated_to is not None:
            raise ValueError("only a basic group that was not upgraded yet can be upgraded")
        if by is not None and by.id not in group.member_ids:
            raise ValueError(f"user {by.id} is not a member of chat {group.id}")
        members = [self.state.users[i] for i in group.member_ids if i in self.state.users]
        supergroup = self.state.new_group(
            group.title or "", members, supergroup=True, username=group.username
        )
        supergroup.admin_ids = set(group.admin_ids)
        supergroup.bot_status = group.bot_status
        upgrader = by or (members[0] if members else None)
        sender = upgrader.to_api() if upgrader else self.state.bot_user()
        old, _ = self.state.add_message(group, "user", sender, {"migrate_to_chat_id": supergroup.id})
        if group.bot_is_member:
            self._enqueue("message", dict(old.json))
        group.migrated_to = supergroup.id
        new, _ = self.state.add_message(supergroup, "user", sender, {"migrate_from_chat_id": group.id})
        if supergroup.bot_is_member:
            self._enqueue("message", dict(new.json))
        self.notifier.notify()
        return supergroup

    #: The name the Bot API documentation would suggest; same as :meth:`upgrade_group`.
    upgrade_group_to_supergroup = upgrade_group

    def _chat_for_user(self, user: SimUser, chat: SimChat | None) -> SimChat:
        if user.deactivated:
            raise ValueError(f"user {user.id} is deactivated and cannot send anything")
        if chat is None or chat.type == "private":
            if chat is not None and chat.user is not user:
                raise ValueError("a user can only write into their own private chat with the bot")
            if user.blocked:
                raise ValueError(
                    f"user {user.id} blocked the bot; use emu.unblock(user) or emu.user_starts(user) first"
                )
            user.started = True
            return self.state.chats[user.id]
        if chat.migrated_to is not None:
            raise ValueError(f"chat {chat.id} was upgraded to supergroup {chat.migrated_to}")
        if user.id not in chat.member_ids:
            raise ValueError(f"user {user.id} is not a member of chat {chat.id}")
        return chat

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        update = self.state.enqueue(kind, payload)
        if update is not None:
            self.state.stats.updates_validated += 1
            problems = self.validator.validate_object("Update", update)
            if problems:
                self.state.response_violations.extend(
                    Violation(None, v.parameter, f"emulator update: {v.reason}", v.description, 500, "update")
                    for v in problems
                )
                raise AssertionError(f"emulator produced an invalid Update: {problems[0].reason}")
        return update

    async def _user_message(
        self, user: SimUser, chat: SimChat | None, content: dict[str, Any], files: tuple[Any, ...] = ()
    ) -> ChatEvent:
        target = self._chat_for_user(user, chat)
        stored, event = self.state.add_message(target, "user", user.to_api(), content, files=files)
        if target.bot_is_member:  # a group the bot was removed from no longer sends it anything
            self._enqueue("message", dict(stored.json))
        return event

    async def user_sends(self, user: SimUser, text: str, chat: SimChat | None = None) -> ChatEvent:
        """``user`` sends ``text`` (to the bot's private chat, or into group ``chat``)."""
        if not text:
            raise ValueError("Telegram clients cannot send an empty message")
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}
            ]
        return await self._user_message(user, chat, content)

    async def user_starts(self, user: SimUser, payload: str | None = None) -> ChatEvent:
        """The user presses Start (optionally through a deep link ``t.me/<bot>?start=PAYLOAD``).

        A user who had blocked the bot unblocks it this way ("Restart"), as in the real client.
        """
        if payload is not None and not START_PAYLOAD_RE.fullmatch(payload):
            raise ValueError(
                f"start payload must be 1-64 characters of A-Z, a-z, 0-9, _ and -; got {payload!r}"
            )
        if user.blocked:
            self.unblock(user)
        return await self.user_sends(user, "/start" if payload is None else f"/start {payload}")

    async def user_shares_contact(
        self,
        user: SimUser,
        phone: str,
        *,
        of_user: SimUser | str | None = None,
        forwarded: bool = False,
        with_phone: bool = True,
    ) -> ChatEvent:
        """Send a contact card.

        ``of_user=None``: the user's own contact (``contact.user_id == from.id``, what a
        ``request_contact`` button sends). ``of_user=<SimUser>``: someone else's Telegram contact
        (``contact.user_id`` is theirs). ``of_user="Name"``: a phone-book entry without a Telegram
        account (no ``user_id``). ``forwarded=True`` adds ``forward_origin`` (forwarded from the
        contact's owner). ``with_phone=False`` emulates a card without a number: the spec requires
        ``phone_number``, so it is sent as an empty string.
        """
        contact: dict[str, Any] = {"phone_number": phone if with_phone else ""}
        owner: SimUser | None
        if of_user is None:
            owner = user
        elif isinstance(of_user, SimUser):
            owner = of_user
        else:
            owner = None
        if owner is not None:
            contact["first_name"] = owner.first_name
            if owner.last_name:
                contact["last_name"] = owner.last_name
            contact["user_id"] = owner.id
        else:
            contact["first_name"] = str(of_user)
        content: dict[str, Any] = {"contact": contact}
        if forwarded:
            date = self.clock.now() - 60
            if owner is not None:
                content["forward_origin"] = {"type": "user", "date": date, "sender_user": owner.to_api()}
            else:
                content["forward_origin"] = {
                    "type": "hidden_user",
                    "date": date,
                    "sender_user_name": str(of_user),
                }
        return await self._user_message(user, None, content)

    async def user_sends_document(
        self,
        user: SimUser,
        filename: str,
        content: bytes,
        mime_type: str,
        *,
        caption: str | None = None,
        chat: SimChat | None = None,
    ) -> ChatEvent:
        record = self.state.store_file(content, "document", filename, mime_type)
        message: dict[str, Any] = {"document": record.document_json()}
        if caption:
            message["caption"] = caption
        return await self._user_message(user, chat, message, (record,))

    async def user_sends_photo(
        self, user: SimUser, content: bytes, *, caption: str | None = None, chat: SimChat | None = None
    ) -> ChatEvent:
        record = self.state.store_file(content, "photo", None, None)
        message: dict[str, Any] = {"photo": record.photo_json()}
        if caption:
            message["caption"] = caption
        return await self._user_message(user, chat, message, (record,))

    async def user_presses(
        self,
        user: SimUser,
        message_or_id: MessageRef,
        callback_data: str | None = None,
        text: str | None = None,
    ) -> str:
        """Press an inline button of a message the bot sent; returns the callback query id.

        The button is found by ``callback_data`` or by its label ``text`` (or both). Raises
        ``LookupError`` if the message (in the user's private chat, or in the event's chat) has no
        such button, so tests cannot press buttons the bot never showed.
        """
        if callback_data is None and text is None:
            raise ValueError("give callback_data or text to identify the button")
        if isinstance(message_or_id, ChatEvent):
            chat_id, message_id = message_or_id.chat_id, message_or_id.message_id
        else:
            chat_id, message_id = user.id, message_or_id
        chat = self.state.chats.get(chat_id)
        if chat is None:
            raise LookupError(f"unknown chat {chat_id}")
        self._chat_for_user(user, chat)
        stored = self.state.get_message(chat_id, message_id)
        if stored is None or stored.sender != "bot":
            raise LookupError(f"no message {message_id} from the bot in chat {chat_id}")
        button = find_button(stored.markup, callback_data, text)
        if button is None:
            raise LookupError(
                f"message {message_id} has no inline button with callback_data={callback_data!r} "
                f"text={text!r}; buttons: {stored.snapshot('message').buttons()}"
            )
        if button.get("callback_data") is None:
            raise LookupError(
                f"button {button.get('text')!r} has no callback_data (it is a {sorted(button)} button)"
            )
        query = self.state.new_callback_query(user, chat_id, message_id, button["callback_data"])
        payload = {
            "id": query.id,
            "from": user.to_api(),
            "message": dict(stored.json),
            "chat_instance": str(abs(hash((self.state.bot_id, chat_id))) % 10**18),
            "data": button["callback_data"],
        }
        self._enqueue("callback_query", payload)
        return query.id

    def _member_update(self, user: SimUser, old: str, new: str, chat: SimChat | None = None) -> None:
        def member(status: str) -> dict[str, Any]:
            if status == "administrator":
                return self.api._administrator(self.state.bot_user())
            out: dict[str, Any] = {"status": status, "user": self.state.bot_user()}
            if status == "kicked":
                out["until_date"] = 0
            return out

        payload = {
            "chat": (chat or self.state.chats[user.id]).to_api(),
            "from": user.to_api(),
            "date": self.clock.now(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        self._enqueue("my_chat_member", payload)

    def block(self, user: SimUser) -> None:
        """The user blocks the bot: sends now fail with 403; the bot gets a my_chat_member update."""
        if user.blocked:
            return
        user.blocked = True
        if user.started:
            self._member_update(user, "member", "kicked")
        self.notifier.notify()

    def unblock(self, user: SimUser) -> None:
        if not user.blocked:
            return
        user.blocked = False
        if user.started:
            self._member_update(user, "kicked", "member")
        self.notifier.notify()

    def remove_bot_from_group(self, group: SimChat, by: SimUser) -> None:
        """A member removes the bot from a group: the bot gets a my_chat_member update (kicked); sends
        to the group then fail with 403 "Forbidden: bot was kicked from the group chat"."""
        if group.type == "private":
            raise ValueError("the bot can only be removed from a group or supergroup")
        if by.id not in group.member_ids:
            raise ValueError(f"user {by.id} is not a member of chat {group.id}")
        if not group.bot_is_member:
            return
        old, group.bot_status = group.bot_status, "kicked"
        self._member_update(by, old, "kicked", chat=group)
        self.notifier.notify()

    def add_bot_to_group(self, group: SimChat, by: SimUser) -> None:
        """A member adds the bot (back) to a group, as a plain member."""
        if group.type == "private":
            raise ValueError("the bot can only be added to a group or supergroup")
        if group.bot_is_member:
            return
        old, group.bot_status = group.bot_status, "member"
        self._member_update(by, old, "member", chat=group)
        self.notifier.notify()

    def deactivate(self, user: SimUser) -> None:
        """The user deletes their account: sends fail with 403 "Forbidden: user is deactivated"."""
        user.deactivated = True
        self.notifier.notify()

    # ============================================================================== transcripts

    def transcript(self, chat_id: ChatRef) -> list[ChatEvent]:
        """Every message in the chat, both directions, current state (edits applied, deletions flagged).

        ``chat_id`` may also be a :class:`SimUser` (their private chat) or a :class:`SimChat`.
        """
        return self.state.log(self.state.chat_id_of(chat_id)).transcript()

    def bot_messages(self, chat_id: ChatRef, *, include_deleted: bool = False) -> list[ChatEvent]:
        """The bot's messages in the chat (deleted ones only with ``include_deleted``)."""
        return [
            e for e in self.transcript(chat_id) if e.sender == "bot" and (include_deleted or not e.deleted)
        ]

    def last_bot_message(self, chat_id: ChatRef) -> ChatEvent | None:
        messages = self.bot_messages(chat_id)
        return messages[-1] if messages else None

    def message(self, chat_id: ChatRef, message_id: int) -> ChatEvent:
        """The current state of one message."""
        cid = self.state.chat_id_of(chat_id)
        stored: StoredMessage | None = self.state.log(cid).messages.get(message_id)
        if stored is None:
            raise KeyError(f"no message {message_id} in chat {cid}")
        return stored.snapshot("message")

    # The timeouts below are part of the test-facing API (as in asyncio.wait_for): hence noqa ASYNC109.
    async def wait_for(
        self,
        chat_id: ChatRef,
        predicate: Callable[[ChatEvent], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the test-facing API, like asyncio.wait_for
        *,
        include_edits: bool = True,
    ) -> ChatEvent:
        """Wait for the bot's next message (or edit) in the chat that matches ``predicate``.

        Each chat has a read cursor: the call returns the first bot activity after the cursor that
        matches and moves the cursor past it, so bot messages sent *before* the call are not missed
        and no message is returned twice. Non-matching activity before the match is skipped. The
        returned :class:`ChatEvent` is the message as it was right after that send or edit. Raises
        ``TimeoutError`` (with the recent transcript) after ``timeout`` real seconds.
        """
        cid = self.state.chat_id_of(chat_id)
        log = self.state.log(cid)
        found: list[int] = []

        def check() -> bool:
            for index in range(log.cursor, len(log.activity)):
                activity = log.activity[index]
                event = activity.event
                if activity.sender != "bot" or event.kind == "delete":
                    continue
                if event.kind == "edit" and not include_edits:
                    continue
                if predicate is None or predicate(event):
                    found.append(index)
                    return True
            return False

        if not await self.notifier.wait_until(check, timeout):
            recent = [
                f"{e.sender}#{e.message_id}{'(edited)' if e.edits else ''}: {e.content[:60]!r}"
                for e in self.transcript(cid)[-8:]
            ]
            raise TimeoutError(
                f"no bot message in chat {cid} matching the predicate within {timeout}s; "
                f"recent transcript: {recent}; "
                f"last violations: {[v.description for v in self.violations[-3:]]}"
            )
        index = found[0]
        log.cursor = index + 1
        return log.activity[index].event

    def skip_pending(self, chat_id: ChatRef) -> None:
        """Move the chat's ``wait_for`` cursor to the end (ignore everything said so far)."""
        log = self.state.log(self.state.chat_id_of(chat_id))
        log.cursor = len(log.activity)

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the test-facing API
    ) -> None:
        """Wait until an arbitrary condition on the emulator holds (re-checked on every change)."""
        if not await self.notifier.wait_until(predicate, timeout):
            raise TimeoutError(f"condition not met within {timeout}s")

    async def wait_for_callback_answer(
        self,
        query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the test-facing API
    ) -> CallbackAnswer:
        """Wait until the bot answers callback query ``query_id``."""
        record = self.state.callback_queries[query_id]
        await self.wait_until(lambda: record.answer is not None, timeout)
        assert record.answer is not None
        return record.answer

    # ============================================================================ webhook replies

    async def _execute_webhook_reply(
        self, method: str, params: dict[str, Any], files: dict[str, FilePart]
    ) -> None:
        values = {k: v for k, v in params.items() if v is not None}
        await self.api.execute(method, values, files, source="webhook_reply")

    async def call(self, method: str, **params: Any) -> Any:
        """Execute a Bot API method in-process (no HTTP), e.g. from a control script.

        Returns the result or raises :class:`ApiError`.
        """
        response = await self.api.execute(
            method, {k: v for k, v in params.items() if v is not None}, {}, source="python"
        )
        if response.body.get("ok"):
            return response.body["result"]
        parameters = response.body.get("parameters") or {}
        raise ApiError(
            response.status,
            str(response.body.get("description")),
            retry_after=parameters.get("retry_after"),
        )


# ======================================================================================== CLI


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox.emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:ABC-DEF")
    parser.add_argument("--rate-limits", action="store_true", help="enforce flood control")
    parser.add_argument("--paid-broadcast", action="store_true")
    parser.add_argument("--strict-webhook-urls", action="store_true")
    parser.add_argument("--seed", type=int, default=0, help="fault injection seed")
    parser.add_argument("--p-5xx", type=float, default=0.0)
    parser.add_argument("--p-slow", type=float, default=0.0)
    parser.add_argument("--slow-seconds", type=float, default=1.0)
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    faults = (
        FaultPlan(seed=args.seed, p_5xx=args.p_5xx, p_slow=args.p_slow, slow_seconds=args.slow_seconds)
        if args.p_5xx or args.p_slow
        else None
    )
    emu = Emulator(
        args.token,
        rate_limits=args.rate_limits,
        faults=faults,
        paid_broadcast=args.paid_broadcast,
        strict_webhook_urls=args.strict_webhook_urls,
    )
    await emu.start(args.host, args.port)
    print(
        f"Bot API emulator on {emu.base_url} (bot {emu.token}); control API at {emu.base_url}/_emu/",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emu.stop()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m sandbox.emulator``."""
    asyncio.run(_serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
