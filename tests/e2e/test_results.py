"""Results through the emulator: two committee members enter and confirm the count, one publishes,
a villager receives the text, the chart and the PDF, each carrying the fingerprint of the count."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import select

from bot.rules.fingerprint import format_fingerprint
from bot.services.audit import verify_audit
from sandbox.world import ChatEvent
from storage.db import SessionFactory
from storage.models import Notice
from tests.e2e.conftest import Harness
from tests.factories import grant
from tests.results_setup import expected_document, results_election

FIRST, SECOND = "+8613900000001", "+8613900000002"
VILLAGER, READER = "+8613800000001", "+8613800000002"

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils is not installed (scripts/setup --system)",
)


def _with_buttons(event: ChatEvent) -> bool:
    return bool(event.button_texts)


def _offers(action: str):  # type: ignore[no-untyped-def]
    """A message with the results button of `action` (start, confirm, publish)."""

    def has(event: ChatEvent) -> bool:
        rows = (event.reply_markup or {}).get("inline_keyboard", [])
        return any(str(b.get("callback_data", "")).startswith(f"rs:{action}:") for row in rows for b in row)

    return has


def _label(event: ChatEvent, action: str) -> str:
    rows = (event.reply_markup or {}).get("inline_keyboard", [])
    return next(
        b["text"] for row in rows for b in row if str(b.get("callback_data", "")).startswith(f"rs:{action}:")
    )


def _look_at_pdf(data: bytes, folder: Path) -> tuple[tuple[int, int], str]:
    """The first page drawn as a PNG (its size), and the text of the document."""
    pdf_path = folder / "results.pdf"
    pdf_path.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf_path), str(folder / "page")],
        check=True,
    )
    [page_png] = sorted(folder.glob("page*.png"))
    with Image.open(page_png) as page:
        size = page.size
        assert len(page.convert("L").getcolors(maxcolors=256) or []) > 2  # not an empty page
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf_path), "-"], check=True, capture_output=True, text=True
    )
    return size, text.stdout


@needs_poppler
async def test_two_members_count_one_publishes_a_villager_checks(
    harness: Harness, sessions: SessionFactory, tmp_path: Path
) -> None:
    phones = {"村民00": FIRST, "村民01": SECOND, "村民02": VILLAGER, "村民03": READER}
    setup = await results_election(sessions, phones)
    await grant(sessions, setup.roll.village, FIRST, "committee")
    await grant(sessions, setup.roll.village, SECOND, "committee")
    first = await harness.linked("一号委员", FIRST, "zh-hans")
    second = await harness.linked("二号委员", SECOND, "zh-hans")
    villager = await harness.linked("村民", VILLAGER, "zh-hans")
    reader = await harness.linked("reader", READER, "en")

    # A villager cannot enter a count.
    refused = await harness.say(villager, "/count")
    assert refused.content == "抱歉，这个功能只有本村的选举委员会可以用。"

    # The first member enters the count, position by position; a sum that is off is sent back.
    await harness.emu.user_sends(first, "/count")
    menu = await harness.emu.wait_for(first, _offers("start"))
    await harness.emu.user_presses(first, menu, text=_label(menu, "start"))
    asked = await harness.emu.wait_for(first)
    assert "王伟" in asked.content and "李娜" in asked.content
    assert "请发四个整数" in (await harness.say(first, "十八 十六")).content  # asked again, nothing lost
    assert "王伟" in (await harness.say(first, "１８，16，15，1")).content  # full-width digits are fine
    assert "一行写一个名字" in (await harness.say(first, "王伟十一票")).content
    asked = await harness.say(first, "王伟 11\n李娜 4")
    assert "张强" in asked.content and "陈明" in asked.content  # now the members
    await harness.say(first, "18 16 16 0")
    back = await harness.say(first, "张强 16\n刘芳 16\n陈明 1")  # 33 votes > 16 valid × 2 seats
    assert "33" in back.content and "16" in back.content
    await harness.say(first, "18 16 16 0")
    saved = await harness.say(first, "张强 12\n刘芳 9\n陈明 8\n+赵六 2")
    document = expected_document("青山村", "城关镇", setup.id)
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert digest[:4] in saved.content

    # The same member may not confirm their own count.
    await harness.emu.user_sends(first, "/count")
    own = await harness.emu.wait_for(first, _offers("confirm"))
    pressed = await harness.emu.user_presses(first, own, text=_label(own, "confirm"))
    answer = await harness.emu.wait_for_callback_answer(pressed)
    assert answer.text is not None and "/count" not in answer.text and answer.show_alert

    # The second member is asked to check it, confirms it, then publishes.
    asked_to_check = await harness.emu.wait_for(
        second, lambda e: "/count" in e.content and digest[:4] in e.content
    )
    assert "纸质计票单" in asked_to_check.content
    await harness.emu.user_sends(second, "/count")
    to_confirm = await harness.emu.wait_for(second, _offers("confirm"))
    assert "王伟" in to_confirm.content
    await harness.emu.user_presses(second, to_confirm, text=_label(to_confirm, "confirm"))
    confirmed = await harness.emu.wait_for(second, _offers("publish"))
    await harness.emu.user_presses(second, confirmed, text=_label(confirmed, "publish"))
    published = await harness.emu.wait_for(
        second, lambda e: format_fingerprint(digest) in e.content, timeout=30
    )
    assert "4" in published.content  # four villagers linked

    # The villager receives the text, the chart and the PDF, each with the fingerprint.
    grouped = format_fingerprint(digest)
    text = await harness.emu.wait_for(
        villager, lambda e: grouped in e.content and e.photo is None, timeout=20
    )
    for name in ("王伟", "张强", "刘芳", "陈明", "赵六"):
        assert name in text.content
    assert "68.8%" in text.content and "16" in text.content  # 11 of 16 ballots cast
    photo = await harness.emu.wait_for(villager, lambda e: e.photo is not None, timeout=20)
    pdf = await harness.emu.wait_for(villager, lambda e: e.document is not None, timeout=20)
    assert photo.photo is not None and pdf.document is not None
    assert digest[:4] in photo.content and pdf.document.file_name.endswith(".pdf")

    chart = Image.open(io.BytesIO(harness.emu.file_bytes(photo.photo.file_id)))
    assert chart.format == "PNG"
    width, height = chart.size
    assert width >= 900 and 500 <= height <= 4000  # wide enough for a phone, not a strip
    colours = chart.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # drawn, not blank

    page_size, extracted = await asyncio.to_thread(
        _look_at_pdf, harness.emu.file_bytes(pdf.document.file_id), tmp_path
    )
    assert page_size[0] > 300 and page_size[1] > page_size[0]  # A4 portrait, drawn
    first_page = extracted.split("\f")[0]
    for name in ("王伟", "李娜", "张强", "刘芳", "陈明", "赵六"):
        assert name in first_page
    assert digest in re.sub(r"\s+", "", extracted)

    # The English reader gets the same results in English, with the same fingerprint.
    english = await harness.emu.wait_for(
        reader, lambda e: grouped in e.content and e.photo is None, timeout=20
    )
    assert "elected" in english.content

    # Provisional results take objections, through the button under the PDF.
    await harness.emu.user_presses(villager, pdf, text="✋ 提出异议")
    assert "请在一条消息里写清楚" in (await harness.emu.wait_for(villager)).content
    await harness.say(villager, "/cancel")

    # /results shows the latest results to anyone bound in the village.
    again = await harness.say(villager, "/results")
    assert "王伟" in again.content and grouped in again.content

    # Publishing twice is refused.
    await harness.emu.user_presses(second, confirmed, text=_label(confirmed, "publish"))
    twice = await harness.emu.wait_for(
        second,
        lambda e: e.message_id > published.message_id and not e.content.startswith("📊") and e.photo is None
        and e.document is None,
    )  # fmt: skip
    assert grouped not in twice.content
    async with sessions() as session:
        notices = (await session.exec(select(Notice).where(Notice.list_kind == "results"))).all()
    assert len(notices) == 1

    async with sessions() as session:
        verified = await verify_audit(session, setup.roll.village.id or 0)
    assert verified.intact and verified.entries >= 3
