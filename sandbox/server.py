"""The emulator's HTTP surface: the Bot API routes, file downloads and the ``/_emu/`` control API.

Routes:

* ``GET|POST /bot{token}/{method}``: the Bot API (token shape checked like the reference server:
  malformed -> 401 ``Unauthorized: invalid token specified``; well-formed but wrong -> 401
  ``Unauthorized``);
* ``GET /file/bot{token}/{file_path}``: downloads of files returned by getFile;
* ``/_emu/...``: a small JSON control API to drive the simulated world when the emulator runs as a
  separate process (and, later, to back a web chat client). See :func:`build_app` for the list.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.errors import error_body
from sandbox.methods import UPLOAD_MAX_BYTES, ApiResponse
from sandbox.state import TOKEN_RE
from sandbox.wire import WireError, read_request
from sandbox.world import SimChat, SimUser

if TYPE_CHECKING:
    from sandbox.emulator import Emulator

__all__ = ["build_app"]

EMULATOR_KEY: web.AppKey[Emulator] = web.AppKey("emulator")

ControlHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_app(emu: Emulator) -> web.Application:
    """Control API (JSON in, JSON out; errors as ``{"ok": false, "error": "..."}`` with 400/404):

    ========  =====================================  ===============================================
    GET       /_emu/state                            bot, users, chats, webhook info, stats
    POST      /_emu/users                            {first_name, last_name?, username?, language_code?}
    POST      /_emu/groups                           {title, member_ids, supergroup?}
    POST      /_emu/users/{id}/send                  {text, chat_id?}
    POST      /_emu/users/{id}/start                 {payload?}
    POST      /_emu/users/{id}/contact               {phone, of_user_id?, of_name?, forwarded?, with_phone?}
    POST      /_emu/users/{id}/press                 {message_id, chat_id?, callback_data?, text?}
    POST      /_emu/users/{id}/document              {filename, mime_type, content_base64, caption?}
    POST      /_emu/users/{id}/block|unblock|deactivate
    GET       /_emu/chats/{id}/transcript            list of messages
    GET       /_emu/chats/{id}/wait?timeout=5        next bot message/edit (408 on timeout)
    GET       /_emu/violations | calls | callback_answers | stats
    GET       /_emu/commands?scope_type=&language_code=&chat_id=&user_id=
    POST      /_emu/clock/advance                    {seconds}
    ========  =====================================  ===============================================
    """
    app = web.Application(client_max_size=UPLOAD_MAX_BYTES + 1024 * 1024)
    app[EMULATOR_KEY] = emu
    app.router.add_get("/bot{token}/{method}", _handle_api)
    app.router.add_post("/bot{token}/{method}", _handle_api)
    app.router.add_get("/file/bot{token}/{path:.+}", _handle_file)
    control: list[tuple[str, str, ControlHandler]] = [
        ("GET", "/_emu/state", _c_state),
        ("POST", "/_emu/users", _c_create_user),
        ("POST", "/_emu/groups", _c_create_group),
        ("POST", "/_emu/users/{user_id}/send", _c_send),
        ("POST", "/_emu/users/{user_id}/start", _c_start),
        ("POST", "/_emu/users/{user_id}/contact", _c_contact),
        ("POST", "/_emu/users/{user_id}/press", _c_press),
        ("POST", "/_emu/users/{user_id}/document", _c_document),
        ("POST", "/_emu/users/{user_id}/{action:block|unblock|deactivate}", _c_user_state),
        ("GET", "/_emu/chats/{chat_id}/transcript", _c_transcript),
        ("GET", "/_emu/chats/{chat_id}/wait", _c_wait),
        ("GET", "/_emu/violations", _c_violations),
        ("GET", "/_emu/calls", _c_calls),
        ("GET", "/_emu/callback_answers", _c_callback_answers),
        ("GET", "/_emu/stats", _c_stats),
        ("GET", "/_emu/commands", _c_commands),
        ("POST", "/_emu/clock/advance", _c_advance),
    ]
    for verb, path, handler in control:
        app.router.add_route(verb, path, _control(handler))
    return app


def _json_error(status: int, description: str) -> web.Response:
    return web.json_response(error_body(status, description), status=status)


def _respond(response: ApiResponse) -> web.Response:
    return web.json_response(response.body, status=response.status, headers=response.headers)


def _token_problem(emu: Emulator, token: str, method: str) -> web.Response | None:
    if not TOKEN_RE.fullmatch(token):
        return _respond(emu.api.reject(method, 401, "Unauthorized: invalid token specified"))
    if token != emu.token:
        return _respond(emu.api.reject(method, 401, "Unauthorized"))
    return None


async def _handle_api(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    method = request.match_info["method"]
    problem = _token_problem(emu, request.match_info["token"], method)
    if problem is not None:
        return problem
    try:
        values, files = await read_request(request)
    except WireError as exc:
        return _respond(emu.api.reject(method, exc.status, exc.description))
    except web.HTTPRequestEntityTooLarge:
        return _respond(emu.api.reject(method, 413, "Request Entity Too Large"))
    return _respond(await emu.api.execute(method, values, files, source="http"))


async def _handle_file(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    problem = _token_problem(emu, request.match_info["token"], "file")
    if problem is not None:
        return problem
    record = emu.state.files_by_path.get(request.match_info["path"])
    if record is None:
        return _json_error(404, "Not Found: file not found")
    return web.Response(body=record.data, content_type=record.mime_type or "application/octet-stream")


# ---------------------------------------------------------------------------------- control API


def _control(handler: ControlHandler) -> ControlHandler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except (KeyError, LookupError) as exc:
            return web.json_response({"ok": False, "error": f"not found: {exc}"}, status=404)
        except (ValueError, TypeError, binascii.Error) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)

    return wrapped


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    data = await request.json()
    if not isinstance(data, dict):
        raise ValueError("the request body must be a JSON object")
    return data


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _user_json(user: SimUser) -> dict[str, Any]:
    return {
        **user.to_api(),
        "started": user.started,
        "blocked": user.blocked,
        "deactivated": user.deactivated,
    }


def _chat_json(chat: SimChat) -> dict[str, Any]:
    return {**chat.to_api(), "member_ids": list(chat.member_ids)}


def _user(request: web.Request) -> SimUser:
    return request.app[EMULATOR_KEY].user(int(request.match_info["user_id"]))


def _optional_chat(emu: Emulator, chat_id: Any) -> SimChat | None:
    return None if chat_id is None else emu.chat(int(chat_id))


async def _c_state(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    return _ok(
        {
            "bot": emu.bot,
            "users": [_user_json(u) for u in emu.users],
            "chats": [_chat_json(c) for c in emu.chats if c.type != "private"],
            "webhook": emu.webhook_info(),
            "pending_updates": len(emu.pending_updates),
            "clock": emu.clock.time(),
        }
    )


async def _c_create_user(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    user = request.app[EMULATOR_KEY].create_user(
        str(body["first_name"]),
        body.get("last_name"),
        body.get("username"),
        body.get("language_code", "zh-hans"),
    )
    return _ok(_user_json(user))


async def _c_create_group(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    body = await _body(request)
    members = [emu.user(int(i)) for i in body.get("member_ids", [])]
    chat = emu.create_group(str(body["title"]), members, supergroup=bool(body.get("supergroup")))
    return _ok(_chat_json(chat))


async def _c_send(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    body = await _body(request)
    event = await emu.user_sends(_user(request), str(body["text"]), _optional_chat(emu, body.get("chat_id")))
    return _ok(event.as_dict())


async def _c_start(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    event = await request.app[EMULATOR_KEY].user_starts(_user(request), body.get("payload"))
    return _ok(event.as_dict())


async def _c_contact(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    body = await _body(request)
    of_user: SimUser | str | None = None
    if body.get("of_user_id") is not None:
        of_user = emu.user(int(body["of_user_id"]))
    elif body.get("of_name"):
        of_user = str(body["of_name"])
    event = await emu.user_shares_contact(
        _user(request),
        str(body["phone"]),
        of_user=of_user,
        forwarded=bool(body.get("forwarded")),
        with_phone=bool(body.get("with_phone", True)),
    )
    return _ok(event.as_dict())


async def _c_press(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    body = await _body(request)
    user = _user(request)
    message_id = int(body["message_id"])
    target: int | Any = message_id
    if body.get("chat_id") is not None:
        target = emu.message(int(body["chat_id"]), message_id)
    query_id = await emu.user_presses(user, target, body.get("callback_data"), body.get("text"))
    return _ok({"callback_query_id": query_id})


async def _c_document(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    content = base64.b64decode(str(body["content_base64"]), validate=True)
    event = await request.app[EMULATOR_KEY].user_sends_document(
        _user(request),
        str(body["filename"]),
        content,
        str(body.get("mime_type", "application/octet-stream")),
        caption=body.get("caption"),
    )
    return _ok(event.as_dict())


async def _c_user_state(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    user = _user(request)
    action = request.match_info["action"]
    if action == "block":
        emu.block(user)
    elif action == "unblock":
        emu.unblock(user)
    else:
        emu.deactivate(user)
    return _ok(_user_json(user))


async def _c_transcript(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    return _ok([e.as_dict() for e in emu.transcript(int(request.match_info["chat_id"]))])


async def _c_wait(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    timeout = min(float(request.query.get("timeout", "5")), 60.0)
    try:
        event = await emu.wait_for(int(request.match_info["chat_id"]), timeout=timeout)
    except TimeoutError:
        return web.json_response({"ok": False, "error": "timeout"}, status=408)
    return _ok(event.as_dict())


async def _c_violations(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    return _ok(
        {
            "violations": [v.as_dict() for v in emu.violations],
            "response_violations": [v.as_dict() for v in emu.response_violations],
            "unsupported_calls": list(emu.unsupported_calls),
        }
    )


async def _c_calls(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    return _ok(
        [
            {
                "seq": c.seq,
                "method": c.method,
                "params": c.params,
                "time": c.time,
                "status": c.status,
                "ok": c.ok,
                "description": c.description,
                "source": c.source,
            }
            for c in emu.calls
        ]
    )


async def _c_callback_answers(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    return _ok([dict(a.__dict__) for a in emu.callback_answers])


async def _c_stats(request: web.Request) -> web.StreamResponse:
    stats = request.app[EMULATOR_KEY].stats
    return _ok(
        {
            "requests": stats.requests,
            "too_many_requests": stats.too_many_requests,
            "server_errors": stats.server_errors,
            "slow_responses": stats.slow_responses,
            "lost_responses": stats.lost_responses,
            "responses_validated": stats.responses_validated,
            "by_status": {str(k): v for k, v in stats.by_status.items()},
            "by_method": dict(stats.by_method),
            "max_send_rate_1s": stats.max_send_rate(1.0),
        }
    )


async def _c_commands(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    q = request.query
    chat_id = int(q["chat_id"]) if "chat_id" in q else None
    user_id = int(q["user_id"]) if "user_id" in q else None
    return _ok(
        emu.commands(
            q.get("scope_type", "default"), q.get("language_code", ""), chat_id=chat_id, user_id=user_id
        )
    )


async def _c_advance(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    body = await _body(request)
    emu.clock.advance(float(body["seconds"]))
    return _ok({"clock": emu.clock.time()})
