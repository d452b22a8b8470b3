"""The sandbox's web API, without a browser: personas, chat, presses, files, live events, the panel."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from sandbox.demo import PersonaKind
from sandbox.web.app import STATIC_DIR
from sandbox.web.runtime import Sandbox, SandboxOptions
from sandbox.world import ChatEvent


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    if os.environ.get("CUNMIN_TEST_POSTGRES_URL"):
        pytest.skip("the sandbox always runs on its own SQLite file: the SQLite pass already ran this test")
    async with Sandbox(SandboxOptions(port=0, people=60, blocked=2)) as running:
        yield running
    # Every request the real bot made was valid against the Bot API spec.
    assert running.emulator.violations == [], running.emulator.violations


@dataclass
class Client:
    http: aiohttp.ClientSession
    base: str

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        async with self.http.request(method, self.base + path, json=body) as response:
            data = await response.json()
            assert response.status == status, data
            return data["result"] if data["ok"] else data["error"]

    async def get(self, path: str, status: int = 200) -> Any:
        return await self.call("GET", path, status=status)

    async def post(self, path: str, body: Any = None, status: int = 200) -> Any:
        return await self.call("POST", path, body, status=status)


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as http:
        yield Client(http, sandbox.url.rstrip("/"))


def _user_id(sandbox: Sandbox, kind: PersonaKind) -> int:
    assert sandbox.directory is not None
    return next(p.user.id for p in sandbox.directory.featured if p.kind is kind)


async def _bot_reply(sandbox: Sandbox, user_id: int, text: str | None = None) -> ChatEvent:
    return await sandbox.emulator.wait_for(
        user_id, (lambda e: text in e.content) if text else None, timeout=10
    )


async def test_the_page_and_its_assets_are_served_with_a_strict_policy(client: Client) -> None:
    async with client.http.get(client.base + "/") as response:
        assert response.status == 200
        page = await response.text()
        policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert '<script src="/static/app.js"' in page
    for asset, kind in (("app.js", "javascript"), ("strings.js", "javascript"), ("style.css", "text/css")):
        async with client.http.get(f"{client.base}/static/{asset}") as response:
            assert response.status == 200 and kind in response.headers["Content-Type"]


def test_the_assets_need_no_network() -> None:
    """Offline: nothing is fetched from a CDN, every asset is the package's own."""
    for path in STATIC_DIR.rglob("*"):
        if path.suffix in {".html", ".js", ".css"}:
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), path
            assert "@import" not in text and "url(http" not in text, path
    # The page draws the bot's text with DOM nodes: no HTML string from a message reaches the page.
    script = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    assert "innerHTML" not in script and "outerHTML" not in script
    assert "insertAdjacentHTML" not in script and "document.write" not in script


async def test_bootstrap_names_the_featured_personas(client: Client, sandbox: Sandbox) -> None:
    boot = await client.get("/api/bootstrap")
    assert boot["bot"]["username"] == "cunmin_sandbox_bot"
    assert boot["village"]["name"] == "青山村" and boot["village"]["people"] == 60
    assert boot["village"]["groups"][:2] == ["一组", "二组"]
    kinds = [p["kind"] for p in boot["personas"]]
    assert kinds == ["committee", "villager", "migrant", "proxy_holder", "supervisor"]
    committee, villager, migrant, holder = boot["personas"][:4]
    # The committee member linked up through the bot when the sandbox started; the others have not.
    assert committee["bound"] and committee["started"]
    assert not villager["bound"] and not villager["started"]
    assert migrant["migrant"] and migrant["works_in"]
    assert holder["relative_of"] == migrant["name"]
    assert "****" in committee["phone"]  # the page shows phones masked


async def test_searching_the_roll_and_picking_anyone(client: Client, sandbox: Sandbox) -> None:
    assert sandbox.village is not None
    someone = next(
        p
        for p in sandbox.village.people
        if p.person_id not in {f.person_id for f in sandbox.village.featured.values()}
    )
    found = await client.get(f"/api/people?q={someone.name}")
    assert someone.person_id in [p["person_id"] for p in found["people"]]
    by_group = await client.get("/api/people?q=二组&limit=5")
    assert by_group["total"] > 5 and len(by_group["people"]) == 5
    assert all(p["group"] == "二组" for p in by_group["people"])
    if someone.phone:
        by_phone = await client.get(f"/api/people?q={someone.phone[-8:]}")
        assert [p["person_id"] for p in by_phone["people"]] == [someone.person_id]
    persona = await client.post(f"/api/people/{someone.person_id}/persona")
    again = await client.post(f"/api/people/{someone.person_id}/persona")
    assert persona["user_id"] == again["user_id"] and persona["name"] == someone.name


async def test_a_villager_starts_shares_their_phone_and_is_linked(client: Client, sandbox: Sandbox) -> None:
    villager = _user_id(sandbox, PersonaKind.VILLAGER)
    await client.post(f"/api/chats/{villager}/start")
    intro = await _bot_reply(sandbox, villager)
    assert (intro.reply_markup or {})["keyboard"][0][0]["request_contact"] is True
    shared = await client.post(f"/api/chats/{villager}/contact")
    assert shared["contact"]["user_id"] == villager and shared["sender"] == "user"
    welcome = await _bot_reply(sandbox, villager, "欢迎您")
    chat = await client.get(f"/api/chats/{villager}")
    assert chat["persona"]["bound"] and chat["persona"]["started"]
    assert [m["message_id"] for m in chat["messages"]][-1] == welcome.message_id
    assert any(c["command"] == "notices" for c in chat["commands"])
    # The bot's formatting travels as entities, for the page to draw safely.
    assert all("entities" in m for m in chat["messages"])


async def test_pressing_an_inline_button_returns_the_bots_answer(client: Client, sandbox: Sandbox) -> None:
    member = _user_id(sandbox, PersonaKind.COMMITTEE)
    await client.post(f"/api/chats/{member}/send", {"text": "/language"})
    choice = await _bot_reply(sandbox, member, "语言")
    data = next(b.callback_data for b in choice.buttons() if b.text == "English")
    pressed = await client.post(
        f"/api/chats/{member}/press", {"message_id": choice.message_id, "callback_data": data}
    )
    assert pressed["answer"] == {"text": "Language set to English.", "show_alert": False, "url": None}
    # A button the bot never showed cannot be pressed.
    await client.post(
        f"/api/chats/{member}/press", {"message_id": choice.message_id, "callback_data": "forged"}, status=404
    )


async def test_live_events_carry_the_bots_messages(client: Client, sandbox: Sandbox) -> None:
    member = _user_id(sandbox, PersonaKind.COMMITTEE)
    chat = await client.get(f"/api/chats/{member}")
    url = f"{client.base}/api/events?chat={member}&cursor={chat['cursor']}"
    async with client.http.get(url) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        await client.post(f"/api/chats/{member}/send", {"text": "/me"})
        seen: list[dict[str, Any]] = []
        event = ""
        async with asyncio.timeout(10):
            async for raw in stream.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: ") and event == "message":
                    seen.append(json.loads(line.removeprefix("data: "))["message"])
                    if seen[-1]["sender"] == "bot":
                        break
    assert [m["sender"] for m in seen] == ["user", "bot"]
    assert seen[0]["text"] == "/me" and seen[1]["chat_id"] == member


async def test_an_offline_phone_holds_messages_until_it_is_back(client: Client, sandbox: Sandbox) -> None:
    member = _user_id(sandbox, PersonaKind.COMMITTEE)
    assert sandbox.directory is not None
    persona = sandbox.directory.get(member)
    offline = await client.post(f"/api/personas/{member}/offline")
    assert offline["offline"]
    await client.post(
        f"/api/chats/{member}/send", {"text": "/me"}, status=409
    )  # a phone that is off sends nothing
    # The bot writes while the phone is off (as a broadcast would): Telegram accepts it.
    sent = await sandbox.emulator.call("sendMessage", chat_id=member, text="村委会通知：明天停水。")
    shown = await client.get(f"/api/chats/{member}")
    assert shown["waiting"] == 1 and all(m["message_id"] != sent["message_id"] for m in shown["messages"])
    everything = await client.get(f"/api/chats/{member}?all=1")
    assert everything["messages"][-1]["message_id"] == sent["message_id"]
    await client.post(f"/api/personas/{member}/online")
    back = await client.get(f"/api/chats/{member}")
    assert back["waiting"] == 0 and back["messages"][-1]["text"] == "村委会通知：明天停水。"
    assert not persona.offline


async def test_blocking_the_bot_and_restarting(client: Client, sandbox: Sandbox) -> None:
    member = _user_id(sandbox, PersonaKind.COMMITTEE)
    blocked = await client.post(f"/api/personas/{member}/block")
    assert blocked["blocked"]
    with pytest.raises(Exception, match="blocked"):
        await sandbox.emulator.call("sendMessage", chat_id=member, text="?")
    await client.post(f"/api/chats/{member}/send", {"text": "/me"}, status=409)
    await client.post(f"/api/chats/{member}/start")  # RESTART unblocks, as in Telegram
    assert not (await client.get(f"/api/personas/{member}"))["blocked"]
    await _bot_reply(sandbox, member, "欢迎回来")


async def test_files_go_both_ways_and_only_images_show_inline(client: Client, sandbox: Sandbox) -> None:
    member = _user_id(sandbox, PersonaKind.COMMITTEE)
    form = aiohttp.FormData()
    form.add_field("file", b"<script>alert(1)</script>", filename="x.html", content_type="text/html")
    async with client.http.post(f"{client.base}/api/chats/{member}/upload", data=form) as response:
        message = (await response.json())["result"]
    document = message["document"]
    assert document["file_name"] == "x.html"
    async with client.http.get(f"{client.base}/api/files/{document['file_id']}") as response:
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert await response.read() == b"<script>alert(1)</script>"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (4).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00"
    form = aiohttp.FormData()
    form.add_field("file", png, filename="p.png", content_type="image/png")
    form.add_field("caption", "村口照片")
    async with client.http.post(f"{client.base}/api/chats/{member}/upload", data=form) as response:
        photo = (await response.json())["result"]
    assert photo["photo"]["width"] == 4 and photo["caption"] == "村口照片"
    async with client.http.get(f"{client.base}/api/files/{photo['photo']['file_id']}") as response:
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["Content-Disposition"].startswith("inline")
    await client.get("/api/files/nonexistent", status=404)


async def test_the_panel_shows_broadcasts_and_toggles_rate_limits(client: Client, sandbox: Sandbox) -> None:
    panel = await client.get("/api/panel")
    assert panel["rate_limits"] is False and panel["broadcasts"] == []
    member = _user_id(sandbox, PersonaKind.COMMITTEE)
    assert member in [c["user_id"] for c in panel["chats"]]
    assert (await client.post("/api/panel/rate-limits", {"enabled": True}))["rate_limits"] is True
    assert sandbox.emulator.rate_limits is True
    assert (await client.post("/api/panel/rate-limits", {"enabled": False}))["rate_limits"] is False


async def test_persona_language_and_unknown_things(client: Client, sandbox: Sandbox) -> None:
    migrant = _user_id(sandbox, PersonaKind.MIGRANT)
    changed = await client.post(f"/api/personas/{migrant}/language", {"language_code": "en"})
    assert changed["language_code"] == "en"
    await client.post(f"/api/chats/{migrant}/start")
    assert "Cunmin" in (await _bot_reply(sandbox, migrant)).content
    await client.post(f"/api/personas/{migrant}/language", {"language_code": "fr"}, status=400)
    await client.get("/api/personas/123", status=404)
    await client.get("/api/chats/123", status=404)
    await client.post("/api/people/999999/persona", status=404)
    await client.post(f"/api/chats/{migrant}/send", {"text": "   "}, status=400)
