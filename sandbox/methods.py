"""Bot API method implementations and the request pipeline that wraps them.

Pipeline for every call (HTTP or a method in a webhook answer), in this order:

1. look the method up case-insensitively: unknown -> 404 ``Not Found: method not found``;
2. injected faults (seeded): 502, slow answer, random 429;
3. decode parameters per spec type and validate them; any violation -> 400 with the real error
   string, recorded in ``violations``;
4. a method that is in the spec but not implemented here -> 400 ``method is not supported by the
   emulator``, recorded so tests notice;
5. flood control for message sends (when enabled) -> 429 with ``retry_after`` and ``Retry-After``;
6. run the method (world-state errors such as "chat not found" or 403 "blocked" come from here);
7. validate the *result* against the method's return type; a violation is an emulator bug -> 500
   and recorded in ``response_violations``;
8. record the call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sandbox.errors import NOT_MODIFIED, QUERY_TOO_OLD, ApiError, error_body
from sandbox.formatting import parse_entities
from sandbox.spec import FilePart, Spec, Validator, Violation
from sandbox.state import CallRecord, EmulatorState
from sandbox.updates import WebhookConfig, check_webhook_url
from sandbox.wire import decode_params
from sandbox.world import CallbackAnswer, EditRecord, FileRecord, SimChat, StoredMessage, image_size

__all__ = ["UNSUPPORTED_DESCRIPTION", "ApiResponse", "BotApi"]

UNSUPPORTED_DESCRIPTION = "Bad Request: method is not supported by the emulator"
PHOTO_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_MAX_BYTES = 50 * 1024 * 1024
DOWNLOAD_MAX_BYTES = 20 * 1024 * 1024
DELETE_WINDOW_SECONDS = 48 * 3600
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
#: Sends that count against flood control (sendChatAction and drafts do not create messages).
_NOT_RATE_LIMITED = frozenset({"sendChatAction", "sendMessageDraft", "sendRichMessageDraft"})
_EXTRA_RATE_LIMITED = frozenset({"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"})

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


@dataclass
class ApiResponse:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def _summarize(value: Any) -> Any:
    """JSON-safe copy of parameters for the call log (files become a short description)."""
    if isinstance(value, FilePart):
        return {"file": value.filename, "size": value.size, "content_type": value.content_type}
    if isinstance(value, dict):
        return {k: _summarize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_summarize(v) for v in value]
    return value


def is_rate_limited(method: str) -> bool:
    return (method.startswith("send") and method not in _NOT_RATE_LIMITED) or method in _EXTRA_RATE_LIMITED


class BotApi:
    """Executes Bot API calls against an :class:`EmulatorState`."""

    def __init__(
        self, state: EmulatorState, spec: Spec, validator: Validator, *, callback_timeout: float
    ) -> None:
        self.state = state
        self.spec = spec
        self.validator = validator
        self.callback_timeout = callback_timeout
        self.handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "sendMessage": self.send_message,
            "sendDocument": self.send_document,
            "sendPhoto": self.send_photo,
            "sendChatAction": self.send_chat_action,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "getFile": self.get_file,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "setChatMenuButton": self.set_chat_menu_button,
            "getChatMenuButton": self.get_chat_menu_button,
            "setMyDescription": self.set_my_description,
            "getMyDescription": self.get_my_description,
            "setMyShortDescription": self.set_my_short_description,
            "getMyShortDescription": self.get_my_short_description,
            "setMyName": self.set_my_name,
            "getMyName": self.get_my_name,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
        }

    # ================================================================================= pipeline

    async def execute(
        self,
        method_name: str,
        values: Mapping[str, Any],
        files: Mapping[str, FilePart],
        *,
        source: str = "http",
    ) -> ApiResponse:
        st = self.state
        st.stats.requests += 1
        spec = self.spec.method(method_name)
        if spec is None:
            newer = self.spec.newer_method(method_name)
            if newer is not None:
                return self._unsupported(newer, values, source)
            violation = Violation(
                method=method_name,
                parameter="",
                reason=f"{method_name!r} is not a Bot API method",
                description="Not Found: method not found",
                status=404,
                code="unknown_method",
            )
            st.violations.append(violation)
            return self._finish(
                method_name, values, source, ApiResponse(404, error_body(404, violation.description))
            )
        name = spec.name
        st.stats.by_method[name] += 1

        decision = st.faults.decide(name) if st.faults is not None else None
        if decision is not None and decision.delay > 0:
            st.stats.slow_responses += 1
            await asyncio.sleep(decision.delay)
        if decision is not None and decision.fail_before:
            return self._finish(name, values, source, ApiResponse(502, error_body(502, "Bad Gateway")))
        if decision is not None and decision.retry_after is not None:
            return self._finish(name, values, source, self._too_many(decision.retry_after))

        params, problems = decode_params(spec, values, files)
        violations = problems + self.validator.validate_request(name, params)
        if violations:
            st.violations.extend(violations)
            first = violations[0]
            return self._finish(
                name, params, source, ApiResponse(first.status, error_body(first.status, first.description))
            )

        handler = self.handlers.get(name)
        if handler is None:
            return self._unsupported(name, params, source)

        if params.get("allow_paid_broadcast") is True and not st.paid_broadcast:
            return self._finish(
                name,
                params,
                source,
                ApiResponse(
                    400,
                    error_body(
                        400,
                        "Bad Request: paid broadcasts are not enabled for the bot "
                        "(emulator: set emu.paid_broadcast)",
                    ),
                ),
            )
        if st.rate_limits_enabled and is_rate_limited(name) and "chat_id" in params:
            try:
                chat = st.find_chat(params["chat_id"])
            except ApiError:
                chat = None
            if chat is not None:
                retry = st.limiter.check(
                    chat.id, chat.type, st.clock.time(), paid=params.get("allow_paid_broadcast") is True
                )
                if retry is not None:
                    return self._finish(name, params, source, self._too_many(retry))

        try:
            result = await handler(params)
        except ApiError as exc:
            return self._finish(name, params, source, ApiResponse(exc.status, exc.body()))

        bad = self.validator.validate_object(spec.returns, result)
        if bad:
            bad = [
                Violation(name, v.parameter, f"emulator response: {v.reason}", v.description, 500, "response")
                for v in bad
            ]
            st.response_violations.extend(bad)
            description = f"Internal Server Error: emulator response violates the spec: {bad[0].reason}"
            return self._finish(name, params, source, ApiResponse(500, error_body(500, description)))
        st.stats.responses_validated += 1
        if is_rate_limited(name) and not name.startswith("get"):
            st.stats.send_times.append(st.clock.time())
        if decision is not None and decision.fail_after:
            st.stats.lost_responses += 1
            return self._finish(
                name, params, source, ApiResponse(502, error_body(502, "Bad Gateway")), result=result
            )
        return self._finish(
            name, params, source, ApiResponse(200, {"ok": True, "result": result}), result=result
        )

    def reject(self, method: str, status: int, description: str, *, source: str = "http") -> ApiResponse:
        """Record and answer a request refused before it reached the pipeline (bad token, bad body)."""
        self.state.stats.requests += 1
        return self._finish(method, {}, source, ApiResponse(status, error_body(status, description)))

    def _too_many(self, retry_after: int) -> ApiResponse:
        return ApiResponse(
            429,
            error_body(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after),
            {"Retry-After": str(retry_after)},
        )

    def _unsupported(self, name: str, params: Mapping[str, Any], source: str) -> ApiResponse:
        st = self.state
        st.unsupported_calls.append(name)
        st.violations.append(
            Violation(
                method=name,
                parameter="",
                reason=f"{name} is a Bot API method that the emulator does not implement",
                description=UNSUPPORTED_DESCRIPTION,
                code="unsupported",
            )
        )
        return self._finish(name, params, source, ApiResponse(400, error_body(400, UNSUPPORTED_DESCRIPTION)))

    def _finish(
        self, name: str, params: Mapping[str, Any], source: str, response: ApiResponse, *, result: Any = None
    ) -> ApiResponse:
        st = self.state
        st.stats.by_status[response.status] += 1
        if response.status == 429:
            st.stats.too_many_requests += 1
        if response.status >= 500:
            st.stats.server_errors += 1
        st.calls.append(
            CallRecord(
                seq=len(st.calls),
                method=name,
                params=_summarize(dict(params)),
                time=st.clock.time(),
                status=response.status,
                ok=response.body.get("ok") is True,
                description=response.body.get("description"),
                result=result,
                source=source,
            )
        )
        st.notifier.notify()
        return response

    # ================================================================================== helpers

    def _chat_for_send(self, params: Mapping[str, Any]) -> SimChat:
        if params.get("business_connection_id"):
            raise ApiError(400, "Bad Request: business connection not found")
        chat = self.state.find_chat(params["chat_id"])
        self.state.check_can_send(chat)
        return chat

    @staticmethod
    def _formatted(
        text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None
    ) -> tuple[str, list[dict[str, Any]]]:
        if entities:
            return text, entities
        parsed = parse_entities(text, parse_mode)
        return parsed.text, [dict(e) for e in parsed.entities]

    def _reply_part(self, chat: SimChat, params: Mapping[str, Any]) -> dict[str, Any]:
        reply = params.get("reply_parameters")
        if not reply or reply.get("message_id") is None:
            return {}
        target_chat = chat
        if reply.get("chat_id") is not None:
            target_chat = self.state.find_chat(reply["chat_id"])
        target = self.state.get_message(target_chat.id, reply["message_id"])
        if target is None:
            if reply.get("allow_sending_without_reply"):
                return {}
            raise ApiError(400, "Bad Request: message to be replied not found")
        quoted = {k: v for k, v in target.json.items() if k != "reply_to_message"}
        if target_chat is chat:
            return {"reply_to_message": quoted}
        return {
            "external_reply": {
                "origin": self._origin(target),
                "chat": target_chat.to_api(),
                "message_id": target.message_id,
            }
        }

    def _origin(self, message: StoredMessage) -> dict[str, Any]:
        return {"type": "user", "date": message.json["date"], "sender_user": message.json["from"]}

    def _common(self, chat: SimChat, params: Mapping[str, Any]) -> dict[str, Any]:
        content = self._reply_part(chat, params)
        if params.get("protect_content"):
            content["has_protected_content"] = True
        return content

    def _send(
        self,
        chat: SimChat,
        content: dict[str, Any],
        params: Mapping[str, Any],
        files: tuple[FileRecord, ...] = (),
    ) -> dict[str, Any]:
        stored, _ = self.state.add_message(
            chat, "bot", self.state.bot_user(), content, markup=params.get("reply_markup"), files=files
        )
        return stored.json

    def _file_param(self, value: Any, kind: Literal["document", "photo"]) -> FileRecord:
        st = self.state
        if isinstance(value, FilePart):
            limit = PHOTO_MAX_BYTES if kind == "photo" else UPLOAD_MAX_BYTES
            if value.size > limit:
                raise ApiError(413, "Request Entity Too Large")
            if value.size == 0:
                raise ApiError(400, "Bad Request: file must be non-empty")
            if kind == "photo":
                size = image_size(value.data)
                if size is None:
                    raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
                w, h = size
                if w + h > 10000 or max(w, h) > 20 * max(min(w, h), 1):
                    raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
            return st.store_file(value.data, kind, value.filename, value.content_type)
        if isinstance(value, str):
            if value.startswith(("http://", "https://")):
                raise ApiError(400, "Bad Request: failed to get HTTP URL content")
            record = st.files.get(value)
            if record is None:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            if record.kind != kind:
                raise ApiError(
                    400,
                    f"Bad Request: can't use file of type {record.kind.capitalize()} as {kind.capitalize()}",
                )
            return record
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _edit_target(self, params: Mapping[str, Any], verb: str = "edit") -> StoredMessage:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self.state.find_chat(params["chat_id"])
        message = self.state.get_message(chat.id, params["message_id"])
        if message is None:
            raise ApiError(400, f"Bad Request: message to {verb} not found")
        if message.sender != "bot":
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _apply_edit(
        self, message: StoredMessage, changes: Mapping[str, Any], markup: dict[str, Any] | None
    ) -> dict[str, Any]:
        j = message.json
        message.history.append(
            EditRecord(int(j.get("edit_date", j["date"])), j.get("text"), j.get("caption"), message.markup)
        )
        for key, value in changes.items():
            if value is None or value == []:
                j.pop(key, None)
            else:
                j[key] = value
        j["edit_date"] = self.state.clock.now()
        message.markup = markup
        if markup is not None and "inline_keyboard" in markup:
            j["reply_markup"] = markup
        else:
            j.pop("reply_markup", None)
        self.state.log(message.chat_id).record(message, "edit")
        self.state.notifier.notify()
        return j

    @staticmethod
    def _new_markup(message: StoredMessage, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """Editing without reply_markup removes an inline keyboard (as on Telegram)."""
        if params.get("reply_markup") is not None:
            markup: dict[str, Any] = params["reply_markup"]
            return markup
        if message.markup is not None and "inline_keyboard" not in message.markup:
            return message.markup
        return None

    # =============================================================================== the methods

    async def get_me(self, params: dict[str, Any]) -> Any:
        return self.state.bot_user(full=True)

    async def get_updates(self, params: dict[str, Any]) -> Any:
        return await self.state.hub.get_updates(
            params.get("offset"), params.get("limit"), params.get("timeout"), params.get("allowed_updates")
        )

    async def set_webhook(self, params: dict[str, Any]) -> Any:
        hub = self.state.hub
        url = params["url"]
        if url == "":
            hub.delete_webhook(drop_pending=bool(params.get("drop_pending_updates")))
            return True
        problem = check_webhook_url(url, strict=self.state.strict_webhook_urls)
        if problem is not None:
            raise ApiError(400, problem)
        hub.set_webhook(
            WebhookConfig(
                url=url,
                secret_token=params.get("secret_token") or None,
                max_connections=params.get("max_connections", 40),
                allowed_updates=params.get("allowed_updates"),
                ip_address=params.get("ip_address"),
                has_custom_certificate=params.get("certificate") is not None,
            ),
            drop_pending=bool(params.get("drop_pending_updates")),
        )
        return True

    async def delete_webhook(self, params: dict[str, Any]) -> Any:
        self.state.hub.delete_webhook(drop_pending=bool(params.get("drop_pending_updates")))
        return True

    async def get_webhook_info(self, params: dict[str, Any]) -> Any:
        return self.state.hub.webhook_info()

    async def send_message(self, params: dict[str, Any]) -> Any:
        chat = self._chat_for_send(params)
        text, entities = self._formatted(params["text"], params.get("parse_mode"), params.get("entities"))
        content = self._common(chat, params)
        content["text"] = text
        if entities:
            content["entities"] = entities
        if params.get("link_preview_options"):
            content["link_preview_options"] = params["link_preview_options"]
        return self._send(chat, content, params)

    def _caption(self, params: Mapping[str, Any], content: dict[str, Any]) -> None:
        if params.get("caption"):
            caption, entities = self._formatted(
                params["caption"], params.get("parse_mode"), params.get("caption_entities")
            )
            if caption:
                content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
            if params.get("show_caption_above_media"):
                content["show_caption_above_media"] = True

    async def send_document(self, params: dict[str, Any]) -> Any:
        chat = self._chat_for_send(params)
        record = self._file_param(params["document"], "document")
        content = self._common(chat, params)
        content["document"] = record.document_json()
        self._caption(params, content)
        return self._send(chat, content, params, (record,))

    async def send_photo(self, params: dict[str, Any]) -> Any:
        chat = self._chat_for_send(params)
        record = self._file_param(params["photo"], "photo")
        content = self._common(chat, params)
        content["photo"] = record.photo_json()
        self._caption(params, content)
        if params.get("has_spoiler"):
            content["has_media_spoiler"] = True
        return self._send(chat, content, params, (record,))

    async def send_chat_action(self, params: dict[str, Any]) -> Any:
        chat = self._chat_for_send(params)
        if params["action"] not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self.state.log(chat.id).actions.append((self.state.clock.time(), params["action"]))
        self.state.notifier.notify()
        return True

    async def edit_message_text(self, params: dict[str, Any]) -> Any:
        if params.get("rich_message") is not None:
            raise ApiError(400, UNSUPPORTED_DESCRIPTION)
        message = self._edit_target(params)
        if "text" not in message.json:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = self._formatted(params["text"], params.get("parse_mode"), params.get("entities"))
        markup = self._new_markup(message, params)
        j = message.json
        if j.get("text") == text and (j.get("entities") or []) == entities and message.markup == markup:
            raise ApiError(400, NOT_MODIFIED)
        return self._apply_edit(message, {"text": text, "entities": entities}, markup)

    async def edit_message_caption(self, params: dict[str, Any]) -> Any:
        message = self._edit_target(params)
        j = message.json
        if "document" not in j and "photo" not in j:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption, entities = self._formatted(
            params.get("caption") or "", params.get("parse_mode"), params.get("caption_entities")
        )
        markup = self._new_markup(message, params)
        if (
            (j.get("caption") or "") == caption
            and (j.get("caption_entities") or []) == entities
            and message.markup == markup
        ):
            raise ApiError(400, NOT_MODIFIED)
        return self._apply_edit(message, {"caption": caption or None, "caption_entities": entities}, markup)

    async def edit_message_reply_markup(self, params: dict[str, Any]) -> Any:
        message = self._edit_target(params)
        markup = params.get("reply_markup")
        if message.markup == markup or (markup is None and not (message.markup or {}).get("inline_keyboard")):
            raise ApiError(400, NOT_MODIFIED)
        return self._apply_edit(message, {}, markup)

    async def delete_message(self, params: dict[str, Any]) -> Any:
        st = self.state
        chat = st.find_chat(params["chat_id"])
        message = st.get_message(chat.id, params["message_id"])
        if message is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        if st.clock.time() - message.json["date"] > DELETE_WINDOW_SECONDS:
            raise ApiError(400, "Bad Request: message can't be deleted for everyone")
        message.deleted = True
        st.log(chat.id).record(message, "delete")
        st.notifier.notify()
        return True

    async def answer_callback_query(self, params: dict[str, Any]) -> Any:
        st = self.state
        record = st.callback_queries.get(params["callback_query_id"])
        if (
            record is None
            or record.answer is not None
            or st.clock.time() - record.date > self.callback_timeout
        ):
            raise ApiError(400, QUERY_TOO_OLD)
        record.answer = CallbackAnswer(
            callback_query_id=record.id,
            user_id=record.user_id,
            text=params.get("text"),
            show_alert=bool(params.get("show_alert")),
            url=params.get("url"),
            cache_time=params.get("cache_time"),
            date=st.clock.time(),
        )
        st.callback_answers.append(record.answer)
        st.notifier.notify()
        return True

    async def get_file(self, params: dict[str, Any]) -> Any:
        record = self.state.files.get(params["file_id"])
        if record is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if record.size > DOWNLOAD_MAX_BYTES:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.size,
            "file_path": record.file_path,
        }

    # ------------------------------------------------------------------------------- commands

    def scope_key(self, scope: Mapping[str, Any] | None) -> tuple[Any, ...]:
        """The storage key of a BotCommandScope; chats are resolved (unknown -> chat not found)."""
        if not scope:
            return ("default",)
        kind = scope["type"]
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat = self.state.find_chat(scope["chat_id"])
            if kind == "chat_member":
                return (kind, chat.id, scope["user_id"])
            return (kind, chat.id)
        return (kind,)

    async def set_my_commands(self, params: dict[str, Any]) -> Any:
        key = (self.scope_key(params.get("scope")), params.get("language_code") or "")
        commands = [dict(c) for c in params["commands"]]
        if commands:
            self.state.commands[key] = commands
        else:
            self.state.commands.pop(key, None)
        self.state.notifier.notify()
        return True

    async def get_my_commands(self, params: dict[str, Any]) -> Any:
        key = (self.scope_key(params.get("scope")), params.get("language_code") or "")
        return [
            {"command": c["command"], "description": c["description"]}
            for c in self.state.commands.get(key, [])
        ]

    async def delete_my_commands(self, params: dict[str, Any]) -> Any:
        key = (self.scope_key(params.get("scope")), params.get("language_code") or "")
        self.state.commands.pop(key, None)
        self.state.notifier.notify()
        return True

    # ----------------------------------------------------------------------- bot profile bits

    async def set_chat_menu_button(self, params: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id")
        if chat_id is not None:
            chat = self.state.find_chat(chat_id)
            if chat.type != "private":
                raise ApiError(400, "Bad Request: chat not found")
        self.state.menu_buttons[chat_id] = params.get("menu_button") or {"type": "default"}
        return True

    async def get_chat_menu_button(self, params: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id")
        button = self.state.menu_buttons.get(chat_id) or self.state.menu_buttons.get(None)
        if button is None or button.get("type") == "default":
            return {"type": "commands"}
        return button

    async def set_my_description(self, params: dict[str, Any]) -> Any:
        _store_text(self.state.descriptions, params.get("language_code") or "", params.get("description"))
        return True

    async def get_my_description(self, params: dict[str, Any]) -> Any:
        return {"description": _lookup_text(self.state.descriptions, params.get("language_code") or "")}

    async def set_my_short_description(self, params: dict[str, Any]) -> Any:
        _store_text(
            self.state.short_descriptions, params.get("language_code") or "", params.get("short_description")
        )
        return True

    async def get_my_short_description(self, params: dict[str, Any]) -> Any:
        return {
            "short_description": _lookup_text(
                self.state.short_descriptions, params.get("language_code") or ""
            )
        }

    async def set_my_name(self, params: dict[str, Any]) -> Any:
        _store_text(self.state.names, params.get("language_code") or "", params.get("name"))
        return True

    async def get_my_name(self, params: dict[str, Any]) -> Any:
        lang = params.get("language_code") or ""
        return {"name": self.state.names.get(lang) or self.state.names.get("") or self.state.bot_first_name}

    # --------------------------------------------------------------------------------- chats

    async def get_chat(self, params: dict[str, Any]) -> Any:
        chat = self.state.find_chat(params["chat_id"])
        info = chat.to_api()
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        )
        return info

    async def get_chat_member(self, params: dict[str, Any]) -> Any:
        st = self.state
        chat = st.find_chat(params["chat_id"])
        user_id = params["user_id"]
        if user_id == st.bot_id:
            if chat.type == "private" or chat.bot_status == "member":
                return {"status": "member", "user": st.bot_user()}
            if chat.bot_status == "kicked":
                return {"status": "kicked", "user": st.bot_user(), "until_date": 0}
            return self._administrator(st.bot_user())
        user = st.users.get(user_id)
        if user is None:
            raise ApiError(400, "Bad Request: user not found")
        api_user = user.to_api()
        if chat.type == "private":
            return {"status": "member" if chat.user is user else "left", "user": api_user}
        if user_id not in chat.member_ids:
            return {"status": "left", "user": api_user}
        if chat.member_ids and chat.member_ids[0] == user_id:
            return {"status": "creator", "user": api_user, "is_anonymous": False}
        if user_id in chat.admin_ids:
            return self._administrator(api_user)
        return {"status": "member", "user": api_user}

    def _administrator(self, user: dict[str, Any]) -> dict[str, Any]:
        """A ChatMemberAdministrator with every required right filled in from the spec."""
        out: dict[str, Any] = {"status": "administrator", "user": user}
        for name, fs in self.spec.types["ChatMemberAdministrator"].fields.items():
            if fs.required and fs.types == ("Boolean",):
                out[name] = name not in ("can_be_edited", "is_anonymous")
        # Newer than the 10.1 spec, but aiogram 3.31 (Bot API 10.3) requires it.
        out["can_send_welcome_messages"] = True
        return out


def _store_text(store: dict[str, str], language: str, value: str | None) -> None:
    if value:
        store[language] = value
    else:
        store.pop(language, None)


def _lookup_text(store: dict[str, str], language: str) -> str:
    return store.get(language) or store.get("") or ""
