"""`cunmin sandbox` in a browser: a villager links up, the committee sends a notice, the villager reads it.

Headless Chromium from Debian (``apt-get install chromium``) driven by Playwright; no browser is
downloaded. Screenshots of every step go to ``test-artifacts/browser/`` (git-ignored) to be looked at.
Without /usr/bin/chromium the test is skipped, except in CI, where it fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlmodel import col, select

from sandbox.demo import PersonaKind
from sandbox.web.runtime import Sandbox, SandboxOptions
from storage.models import Account, Delivery

if TYPE_CHECKING:
    from playwright.async_api import Browser, ConsoleMessage, Page, ViewportSize

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1440, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
# A notice reaches about 180 linked villagers at 30 a second: the villager's copy may be among the last.
BROADCAST_WAIT_MS = 30_000
TITLE = "关于召开村民代表会议的通知"
BODY = "定于本周六上午9点在村委会会议室召开村民代表会议，讨论换届选举工作安排。请准时参加。"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the browser test must run here)")
    pytest.skip(reason)


def _require_browser() -> None:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: `apt-get install chromium` to run the browser test")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install playwright; no browser download)")


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    if os.environ.get("CUNMIN_TEST_POSTGRES_URL"):
        pytest.skip("the sandbox always runs on its own SQLite file: the SQLite pass already ran this test")
    _require_browser()
    async with Sandbox(SandboxOptions(port=0)) as running:
        yield running
    # Every request the real bot made during the test was valid against the Bot API spec.
    assert running.emulator.violations == [], running.emulator.violations


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    _require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        # launch() gives Chromium a fresh, temporary --user-data-dir of its own, removed on close
        # (Playwright refuses the flag in `args`; launch_persistent_context would allow one context only).
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


class Steps:
    """Numbered screenshots, one per step, and the page errors seen so far."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.number = 0
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    async def shot(self, name: str, page: Page | None = None) -> None:
        self.number += 1
        await (page or self.page).screenshot(path=str(self.folder / f"{self.number:02d}-{name}.png"))


async def _bot_says(page: Page, text: str, wait_ms: float = 10_000) -> None:
    await page.locator("#messages .msg.bot", has_text=text).last.wait_for(timeout=wait_ms)


async def _send(page: Page, text: str) -> None:
    await page.fill("#text-input", text)
    await page.press("#text-input", "Enter")


async def _press(page: Page, label: str) -> None:
    await page.locator("#messages .kb-button", has_text=label).last.click()


async def _persona(page: Page, kind: PersonaKind) -> None:
    await page.click(f'#featured .persona[data-kind="{kind.value}"]')
    await page.wait_for_selector(f'#featured .persona[data-kind="{kind.value}"][aria-current="true"]')


async def test_villager_links_up_committee_sends_a_notice_villager_reads_it(
    sandbox: Sandbox, browser: Browser, artifacts: Path
) -> None:
    village = sandbox.village
    assert village is not None
    villager = village.featured[PersonaKind.VILLAGER]
    context = await browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = await context.new_page()
    steps = Steps(page, artifacts)
    await page.goto(sandbox.url)
    await page.wait_for_selector("body[data-ready=true]")
    await steps.shot("opened-as-villager")

    # The villager presses Start and the reply keyboard's "share my phone number".
    await _persona(page, PersonaKind.VILLAGER)
    await page.click("#start-button")
    share = page.locator("#reply-keyboard .reply-button", has_text="发送我的手机号")
    await share.wait_for()
    await steps.shot("villager-pressed-start")
    await share.click()
    await _bot_says(page, f"欢迎您，{villager.name}")
    await steps.shot("villager-linked")

    # The committee member writes a notice with the /notice wizard.
    await _persona(page, PersonaKind.COMMITTEE)
    await _bot_says(page, "您在青山村的选民名单上")  # the member linked up when the sandbox started
    await _send(page, "/notice")
    await _bot_says(page, "发送标题")
    await _send(page, TITLE)
    await _bot_says(page, "公告正文")
    await _send(page, BODY)
    await _bot_says(page, "附件")
    await steps.shot("committee-notice-wizard")
    await _press(page, "不加附件")
    await _bot_says(page, "发给谁")
    await _press(page, "全体村民")
    await _bot_says(page, "已阅")
    await _press(page, "要，请村民点“已阅”")
    await _bot_says(page, "现在发送吗")
    await steps.shot("committee-preview")
    await _press(page, "现在发送")
    await page.locator("#broadcasts .broadcast", has_text=TITLE).wait_for()
    await page.wait_for_timeout(1_500)  # a little progress to show in the panel
    await steps.shot("committee-broadcast-in-progress")

    # The villager receives the notice and presses "I have read this".
    await _persona(page, PersonaKind.VILLAGER)
    notice = page.locator("#messages .msg.bot", has_text=TITLE)
    await notice.wait_for(timeout=BROADCAST_WAIT_MS)
    await steps.shot("villager-notice-arrived")
    await notice.locator(".kb-button", has_text="已阅").click()
    await page.locator("#toast", has_text="谢谢，已记录").wait_for()
    await notice.locator(".kb-button", has_text="已阅（").wait_for()
    await steps.shot("villager-read-it")

    # The committee member's delivery report, once the outbox is done.
    await page.locator("#broadcasts .broadcast", has_text="已完成").wait_for(timeout=BROADCAST_WAIT_MS)
    await _persona(page, PersonaKind.COMMITTEE)
    await _bot_says(page, "发送报告", wait_ms=BROADCAST_WAIT_MS)
    await steps.shot("committee-delivery-report")

    # The page itself speaks English too (the bot keeps each person's own language).
    await page.click('.lang-switch button[data-lang="en"]')
    await page.locator("#people-heading", has_text="Featured people").wait_for()
    await page.locator("#broadcasts .counts", has_text="delivered").wait_for()
    await steps.shot("page-in-english")
    await page.click('.lang-switch button[data-lang="zh"]')

    # The same chat on a phone-sized screen: the chat, the people drawer, the emulator panel.
    phone = await browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2, is_mobile=True)
    small = await phone.new_page()
    small.on("pageerror", lambda error: steps.errors.append(str(error)))
    villager_user = sandbox.directory.by_person[villager.person_id or 0].user.id if sandbox.directory else 0
    await small.goto(f"{sandbox.url}#u={villager_user}")
    await small.wait_for_selector("body[data-ready=true]")
    await small.locator("#messages .msg.bot", has_text=TITLE).wait_for()
    await steps.shot("phone-villager-chat", small)
    await small.click("#open-people")
    await small.wait_for_timeout(400)
    await steps.shot("phone-people", small)
    await small.keyboard.press("Escape")
    await small.click("#open-panel")
    await small.locator("#broadcasts .broadcast", has_text=TITLE).wait_for()
    await small.wait_for_timeout(400)
    await steps.shot("phone-emulator-panel", small)
    await phone.close()
    await context.close()

    assert steps.errors == []
    assert sandbox.application is not None
    async with sandbox.application.sessions() as session:
        read = (
            await session.exec(
                select(Account.telegram_user_id)
                .join(Delivery, col(Delivery.account_id) == col(Account.id))
                .where(col(Delivery.read_at).is_not(None))
            )
        ).all()
    assert read == [villager_user]
