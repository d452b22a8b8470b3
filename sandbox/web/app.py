"""The sandbox's web page and its JSON API: a chat client for the emulator, and a panel to steer it.

Everything a person does on the page goes through the emulator's world API (a user sends, presses,
shares their contact), so the bot receives exactly the updates Telegram would send. Messages reach
the page live over Server-Sent Events (``/api/events``). The page renders the bot's formatting from
the message entities with DOM text nodes, never by inserting HTML, and the Content-Security-Policy
allows no inline script at all.

Routes (JSON in and out; errors as ``{"ok": false, "error": "..."}``):

========  ==========================================  ==============================================
GET       /                                           the page (assets under /static/)
GET       /api/bootstrap                              bot, village, featured personas, rate limits
GET       /api/people?q=&limit=                       search the roll (name, group, household, phone)
POST      /api/people/{person_id}/persona             that person's persona (created on first use)
GET       /api/personas/{user_id}                     one persona
POST      /api/personas/{user_id}/{action}            block, unblock, offline, online
POST      /api/personas/{user_id}/language            {language_code}: the Telegram app's language
GET       /api/chats/{user_id}?all=                   the chat as the persona's phone shows it
POST      /api/chats/{user_id}/start|send|contact     press Start, send {text}, share own phone
POST      /api/chats/{user_id}/press                  {message_id, callback_data} -> the bot's answer
POST      /api/chats/{user_id}/upload                 multipart "file" (+ "caption"): photo/document
GET       /api/files/{file_id}?download=              a photo or document from a chat
GET       /api/events?chat=&cursor=&watch=&watch_cursor=   Server-Sent Events
GET       /api/panel                                  outbox progress, flood control, chats
POST      /api/panel/rate-limits                      {enabled}
========  ==========================================  ==============================================
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web
from sqlmodel import col, select

from sandbox.demo import DemoPerson, DemoVillage
from sandbox.emulator import Emulator
from sandbox.web.personas import LANGUAGE_CODES, Persona, PersonaDirectory
from sandbox.world import ChatEvent
from storage.db import SessionFactory
from storage.models import Binding, Broadcast, DeliveryStatus
from storage.repositories import outbox as outbox_repo

__all__ = ["CONTEXT", "STATIC_DIR", "WebContext", "build_web_app", "message_json"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
UPLOAD_LIMIT = 20 * 1024 * 1024
# Telegram's limit for a message a user types.
TEXT_LIMIT = 4096
PRESS_ANSWER_WAIT = 3.0
KEEPALIVE_SECONDS = 15.0
RECENT_BROADCASTS = 5
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}
_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
# The page and its assets are all this origin's own files: nothing inline, nothing from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass
class WebContext:
    emulator: Emulator
    directory: PersonaDirectory
    sessions: SessionFactory
    village: DemoVillage
    bot_name: str
    bot_username: str
    # Set when the sandbox stops: the event streams end so that the server can close.
    stopping: asyncio.Event


CONTEXT: web.AppKey[WebContext] = web.AppKey("sandbox_web_context", WebContext)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_web_app(context: WebContext) -> web.Application:
    app = web.Application(client_max_size=UPLOAD_LIMIT + 64 * 1024, middlewares=[_headers, _api_errors])
    app[CONTEXT] = context
    app.router.add_get("/", _index)
    app.router.add_static("/static/", STATIC_DIR)
    routes: list[tuple[str, str, Handler]] = [
        ("GET", "/api/bootstrap", _bootstrap),
        ("GET", "/api/people", _people),
        ("POST", "/api/people/{person_id}/persona", _person_persona),
        ("GET", "/api/personas/{user_id}", _persona),
        ("POST", "/api/personas/{user_id}/language", _persona_language),
        ("POST", "/api/personas/{user_id}/{action:block|unblock|offline|online}", _persona_action),
        ("GET", "/api/chats/{user_id}", _chat),
        ("POST", "/api/chats/{user_id}/start", _start),
        ("POST", "/api/chats/{user_id}/send", _send),
        ("POST", "/api/chats/{user_id}/contact", _contact),
        ("POST", "/api/chats/{user_id}/press", _press),
        ("POST", "/api/chats/{user_id}/upload", _upload),
        ("GET", "/api/files/{file_id}", _file),
        ("GET", "/api/events", _events),
        ("GET", "/api/panel", _panel),
        ("POST", "/api/panel/rate-limits", _rate_limits),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, handler)
    return app


# ----------------------------------------------------------------------------------- middlewares


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@web.middleware
async def _api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except (KeyError, LookupError) as exc:
        return web.json_response({"ok": False, "error": f"not found: {exc}"}, status=404)
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        return web.json_response({"ok": False, "error": str(exc)}, status=400)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _conflict(reason: str) -> web.Response:
    return web.json_response({"ok": False, "error": reason}, status=409)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    data = await request.json()
    if not isinstance(data, dict):
        raise ValueError("the request body must be a JSON object")
    return data


def _context(request: web.Request) -> WebContext:
    return request.app[CONTEXT]


def _persona_of(request: web.Request) -> Persona:
    return _context(request).directory.get(int(request.match_info["user_id"]))


# ----------------------------------------------------------------------------------------- JSON


def message_json(event: ChatEvent) -> dict[str, Any]:
    """A message as the page draws it: text or caption with entities, keyboards, photo, document."""
    out = event.as_dict()
    out.pop("edits", None)
    out["edited"] = event.edit_date is not None
    return out


async def _bound_person_ids(context: WebContext) -> set[int]:
    async with context.sessions() as session:
        ids = set((await session.exec(select(Binding.person_id))).all())
        await session.commit()  # ends the read transaction (storage/db.py: it holds SQLite's lock)
    return ids


def _person_json(person: DemoPerson, bound: set[int], directory: PersonaDirectory) -> dict[str, Any]:
    persona = directory.by_person.get(person.person_id or 0)
    return {
        "person_id": person.person_id,
        "name": person.name,
        "group": person.group,
        "household": person.household,
        "party_member": person.party_member,
        "migrant": person.migrant,
        "works_in": person.works_in,
        "has_phone": person.phone is not None,
        "bound": person.person_id in bound,
        "user_id": persona.user.id if persona else None,
        "blocked": bool(persona and persona.user.blocked),
    }


def _persona_json(persona: Persona, bound: set[int]) -> dict[str, Any]:
    person_id = persona.person.person_id if persona.person else None
    return persona.to_json(bound=person_id in bound)


# ----------------------------------------------------------------------------------------- pages


async def _index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


async def _bootstrap(request: web.Request) -> web.StreamResponse:
    context = _context(request)
    bound = await _bound_person_ids(context)
    village = context.village
    return _ok(
        {
            "bot": {"name": context.bot_name, "username": context.bot_username},
            "village": {
                "name": village.name,
                "township": village.township,
                "people": len(village.people),
                # In the roll's order (一组, 二组 …): the people are listed household by household.
                "groups": list(dict.fromkeys(p.group for p in village.people)),
            },
            "personas": [_persona_json(p, bound) for p in context.directory.featured],
            "rate_limits": context.emulator.rate_limits,
            "languages": list(LANGUAGE_CODES),
        }
    )


def _matches(person: DemoPerson, query: str) -> bool:
    digits = "".join(ch for ch in query if ch.isdigit())
    return (
        query in person.name
        or query == person.group
        or query == person.household
        or (person.works_in is not None and query in person.works_in)
        or (len(digits) >= 4 and person.phone is not None and digits in person.phone)
    )


async def _people(request: web.Request) -> web.StreamResponse:
    context = _context(request)
    query = request.query.get("q", "").strip()
    limit = max(1, min(int(request.query.get("limit", "50")), 200))
    people = [p for p in context.village.people if not query or _matches(p, query)]
    bound = await _bound_person_ids(context)
    return _ok(
        {
            "total": len(people),
            "people": [_person_json(p, bound, context.directory) for p in people[:limit]],
        }
    )


async def _person_persona(request: web.Request) -> web.StreamResponse:
    context = _context(request)
    persona = context.directory.for_person(int(request.match_info["person_id"]))
    return _ok(_persona_json(persona, await _bound_person_ids(context)))


async def _persona(request: web.Request) -> web.StreamResponse:
    persona = _persona_of(request)
    return _ok(_persona_json(persona, await _bound_person_ids(_context(request))))


async def _persona_action(request: web.Request) -> web.StreamResponse:
    context = _context(request)
    persona = _persona_of(request)
    action = request.match_info["action"]
    if action == "block":
        context.emulator.block(persona.user)
    elif action == "unblock":
        context.emulator.unblock(persona.user)
    elif action == "offline":
        context.directory.go_offline(persona)
    else:
        context.directory.go_online(persona)
    context.directory.changed()
    return _ok(_persona_json(persona, await _bound_person_ids(context)))


async def _persona_language(request: web.Request) -> web.StreamResponse:
    context = _context(request)
    persona = _persona_of(request)
    body = await _body(request)
    context.directory.set_language(persona, str(body.get("language_code", "")))
    return _ok(_persona_json(persona, await _bound_person_ids(context)))


# ------------------------------------------------------------------------------------------ chat


def _waiting(persona: Persona, events: list[ChatEvent]) -> int:
    """Messages that arrived while the persona's phone was off."""
    return sum(1 for e in events if not persona.sees(e) and e.sender == "bot")


async def _chat(request: web.Request) -> web.StreamResponse:
    context = _context(request)
    persona = _persona_of(request)
    everything = request.query.get("all") in ("1", "true")
    emu = context.emulator
    # Transcript and cursor are read together, with no await between: no message falls in a gap.
    cursor = len(emu.state.log(persona.user.id).activity)
    events = [e for e in emu.transcript(persona.user) if not e.deleted]
    shown = events if everything else [e for e in events if persona.sees(e)]
    commands = emu.resolve_commands(persona.user)
    bound = await _bound_person_ids(context)
    return _ok(
        {
            "persona": _persona_json(persona, bound),
            "messages": [message_json(e) for e in shown],
            "waiting": 0 if everything else _waiting(persona, events),
            "cursor": cursor,
            "commands": commands,
        }
    )


def _can_type(persona: Persona) -> web.Response | None:
    if persona.offline:
        return _conflict("this person's phone is offline")
    if persona.user.blocked:
        return _conflict("this person has blocked the bot: press Restart first")
    return None


async def _start(request: web.Request) -> web.StreamResponse:
    context = _context(request)
    persona = _persona_of(request)
    if persona.offline:
        return _conflict("this person's phone is offline")
    was_blocked = persona.user.blocked
    event = await context.emulator.user_starts(persona.user)
    if was_blocked:
        context.directory.changed()
    return _ok(message_json(event))


async def _send(request: web.Request) -> web.StreamResponse:
    context = _context(request)
    persona = _persona_of(request)
    refused = _can_type(persona)
    if refused is not None:
        return refused
    text = str((await _body(request)).get("text", "")).strip()
    if not text:
        raise ValueError("the message is empty")
    if len(text) > TEXT_LIMIT:
        raise ValueError(f"a message has at most {TEXT_LIMIT} characters")
    first = not persona.user.started
    event = await context.emulator.user_sends(persona.user, text)
    if first:
        context.directory.changed()
    return _ok(message_json(event))


async def _contact(request: web.Request) -> web.StreamResponse:
    context = _context(request)
    persona = _persona_of(request)
    refused = _can_type(persona)
    if refused is not None:
        return refused
    # What a request_contact button sends: the sender's own card, the number without "+".
    event = await context.emulator.user_shares_contact(persona.user, persona.telegram_phone.removeprefix("+"))
    return _ok(message_json(event))


async def _press(request: web.Request) -> web.StreamResponse:
    context = _context(request)
    persona = _persona_of(request)
    refused = _can_type(persona)
    if refused is not None:
        return refused
    body = await _body(request)
    emu = context.emulator
    query_id = await emu.user_presses(
        persona.user, int(body["message_id"]), callback_data=str(body["callback_data"])
    )
    try:
        answer = await emu.wait_for_callback_answer(query_id, timeout=PRESS_ANSWER_WAIT)
    except TimeoutError:
        return _ok({"answer": None})
    return _ok({"answer": {"text": answer.text, "show_alert": answer.show_alert, "url": answer.url}})


async def _upload(request: web.Request) -> web.StreamResponse:
    context = _context(request)
    persona = _persona_of(request)
    refused = _can_type(persona)
    if refused is not None:
        return refused
    reader = await request.multipart()
    filename, content, mime_type, caption = "file", b"", "application/octet-stream", ""
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "file":
            filename = part.filename or filename
            mime_type = part.headers.get("Content-Type", mime_type)
            content = await _read_limited(part)
        elif part.name == "caption":
            caption = (await part.text()).strip()
    if not content:
        raise ValueError("the file is empty")
    emu = context.emulator
    if mime_type in PHOTO_TYPES:
        event = await emu.user_sends_photo(persona.user, content, caption=caption or None)
    else:
        event = await emu.user_sends_document(
            persona.user, filename, content, mime_type, caption=caption or None
        )
    return _ok(message_json(event))


async def _read_limited(part: BodyPartReader) -> bytes:
    """The part's bytes, refusing more than the upload limit (multipart reads are not size-checked)."""
    data = bytearray()
    while chunk := await part.read_chunk():
        data.extend(chunk)
        if len(data) > UPLOAD_LIMIT:
            raise web.HTTPRequestEntityTooLarge(max_size=UPLOAD_LIMIT, actual_size=len(data))
    return bytes(data)


def _sniff_image(data: bytes) -> str | None:
    for magic, mime in _IMAGE_MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


async def _file(request: web.Request) -> web.StreamResponse:
    record = _context(request).emulator.state.files.get(request.match_info["file_id"])
    if record is None:
        raise KeyError("file")
    image = _sniff_image(record.data)
    download = request.query.get("download") in ("1", "true")
    name = record.file_name or (f"photo.{(image or 'image/jpeg').split('/')[1]}")
    # Only images are shown inline; anything else (an HTML file, say) is always a download.
    inline = image is not None and not download
    content_type = image if inline and image else (record.mime_type or image or "application/octet-stream")
    disposition = "inline" if inline else "attachment"
    return web.Response(
        body=record.data,
        content_type=content_type,
        headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}"},
    )


# ---------------------------------------------------------------------------------------- events


@dataclass
class _Subscription:
    user_id: int
    cursor: int
    # The panel's transcript: everything the emulator holds, whether or not the phone is online.
    everything: bool


def _subscriptions(request: web.Request) -> list[_Subscription]:
    q = request.query
    subs: list[_Subscription] = []
    for key, cursor_key, everything in (("chat", "cursor", False), ("watch", "watch_cursor", True)):
        if q.get(key):
            subs.append(_Subscription(int(q[key]), max(0, int(q.get(cursor_key, "0"))), everything))
    return subs


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


async def _events(request: web.Request) -> web.StreamResponse:
    context = _context(request)
    emu, directory = context.emulator, context.directory
    subs = _subscriptions(request)
    for sub in subs:
        directory.get(sub.user_id)  # 404 for chats that are not the sandbox's
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    notifier = emu.notifier
    persona_version = directory.version
    try:
        await response.write(b"retry: 1000\n\n")
        while not context.stopping.is_set():
            seen = notifier.version

            def changed_since(seen: int = seen) -> bool:
                return notifier.version != seen or context.stopping.is_set()

            chunks: list[bytes] = []
            for sub in subs:
                chunks.extend(_new_activity(context, sub))
            if directory.version != persona_version:
                persona_version = directory.version
                chunks.append(_sse("personas", {"version": persona_version}))
            if chunks:
                await response.write(b"".join(chunks))
            if not await notifier.wait_until(changed_since, timeout=KEEPALIVE_SECONDS):
                await response.write(b": keep-alive\n\n")
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return response


def _new_activity(context: WebContext, sub: _Subscription) -> list[bytes]:
    log = context.emulator.state.log(sub.user_id)
    persona = context.directory.get(sub.user_id)
    out: list[bytes] = []
    waiting_changed = False
    for activity in log.activity[sub.cursor :]:
        event = activity.event
        if not sub.everything and not persona.sees(event):
            waiting_changed = True
            continue
        data = {"chat_id": sub.user_id, "everything": sub.everything, "message": message_json(event)}
        out.append(_sse("message", data))
    sub.cursor = len(log.activity)
    if waiting_changed:
        events = context.emulator.transcript(persona.user)
        out.append(_sse("waiting", {"chat_id": sub.user_id, "waiting": _waiting(persona, events)}))
    return out


# ----------------------------------------------------------------------------------------- panel


def _sends_in_last_second(emu: Emulator) -> int:
    now = emu.clock.time()
    count = 0
    for moment in reversed(emu.stats.send_times):
        if moment < now - 1.0:
            break
        count += 1
    return count


async def _broadcasts(context: WebContext) -> list[dict[str, Any]]:
    async with context.sessions() as session:
        statement = select(Broadcast).order_by(col(Broadcast.id).desc()).limit(RECENT_BROADCASTS)
        broadcasts = list((await session.exec(statement)).all())
        counts = await outbox_repo.status_counts(session, [b.id for b in broadcasts if b.id is not None])
        await session.commit()  # ends the read transaction
    out: list[dict[str, Any]] = []
    for broadcast in broadcasts:
        c = counts.get(broadcast.id or 0)
        if c is None:
            continue
        out.append(
            {
                "id": broadcast.id,
                "kind": broadcast.kind,
                "title": broadcast.title,
                "total": broadcast.total,
                "sent": c[DeliveryStatus.SENT],
                "failed": c[DeliveryStatus.FAILED],
                "unreachable": c[DeliveryStatus.UNREACHABLE],
                "skipped": c[DeliveryStatus.SKIPPED],
                "pending": c[DeliveryStatus.PENDING] + c[DeliveryStatus.CLAIMED],
                "finished": broadcast.finished_at is not None,
                "created_at": broadcast.created_at.isoformat(),
            }
        )
    return out


def _chats(context: WebContext) -> list[dict[str, Any]]:
    emu, directory = context.emulator, context.directory
    rows: list[tuple[tuple[int, int], dict[str, Any]]] = []
    for user_id, persona in directory.by_user.items():
        log = emu.state.logs.get(user_id)
        if log is None or not log.messages:
            continue
        last = max(log.messages.values(), key=lambda m: m.message_id)
        rows.append(
            (
                (int(last.json.get("date", 0)), len(log.activity)),
                {
                    "user_id": user_id,
                    "name": persona.user.full_name,
                    "kind": persona.kind.value if persona.kind else None,
                    "messages": len(log.messages),
                    "blocked": persona.user.blocked,
                    "offline": persona.offline,
                },
            )
        )
    rows.sort(key=lambda row: row[0], reverse=True)
    return [row for _, row in rows[:200]]


async def _panel(request: web.Request) -> web.StreamResponse:
    context = _context(request)
    emu = context.emulator
    stats = emu.stats
    return _ok(
        {
            "rate_limits": emu.rate_limits,
            "stats": {
                "requests": stats.requests,
                "too_many_requests": stats.too_many_requests,
                "sends_last_second": _sends_in_last_second(emu),
                "max_send_rate_1s": stats.max_send_rate(1.0),
                "violations": len(emu.violations),
            },
            "broadcasts": await _broadcasts(context),
            "chats": _chats(context),
        }
    )


async def _rate_limits(request: web.Request) -> web.StreamResponse:
    context = _context(request)
    body = await _body(request)
    context.emulator.rate_limits = bool(body.get("enabled"))
    context.directory.changed()
    return _ok({"rate_limits": context.emulator.rate_limits})
