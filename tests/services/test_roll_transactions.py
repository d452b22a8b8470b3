"""Every service of the roll ends its transaction before returning, refusals included: under
BEGIN IMMEDIATE an open read would hold SQLite's write lock while the caller talks to Telegram."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.files.roll import RollRow
from bot.services import invites, roles, roll, villages
from bot.services.accounts import register_account
from storage.db import SessionFactory

NOW = datetime(2026, 3, 1, tzinfo=UTC)
Call = Callable[[AsyncSession, int], Awaitable[object]]

CALLS: dict[str, Call] = {
    "add_village (exists)": lambda s, v: villages.add_village(
        s, name="东山村", township="城关镇", province="ZJ"
    ),
    "locate_village": lambda s, v: villages.locate_village(s, "东山村"),
    "list_villages": lambda s, v: villages.list_villages(s),
    "import_roll (unknown village)": lambda s, v: roll.import_roll(s, 999, [RollRow(2, "甲")], now=NOW),
    "import_roll (empty)": lambda s, v: roll.import_roll(s, v, [], now=NOW),
    "import_roll (problems)": lambda s, v: roll.import_roll(
        s, v, [RollRow(2, "甲", phone="+8613800138000"), RollRow(3, "乙", phone="+8613800138000")], now=NOW
    ),
    "import_roll": lambda s, v: roll.import_roll(s, v, [RollRow(2, "甲", phone="+8613800138000")], now=NOW),
    "list_roll": lambda s, v: roll.list_roll(s, v),
    "grant_role (no village)": lambda s, v: roles.grant_role(s, 999, "13800138000", "committee"),
    "grant_role": lambda s, v: roles.grant_role(s, v, "13800138000", "committee"),
    "revoke_role (not granted)": lambda s, v: roles.revoke_role(s, v, "13800138000", "observer"),
    "list_roles": lambda s, v: roles.list_roles(s, v),
    "invite_person (not on roll)": lambda s, v: invites.invite_person(s, v, "13900000000", now=NOW),
    "invite_unbound": lambda s, v: invites.invite_unbound(s, v, now=NOW),
}


@pytest.mark.parametrize("name", list(CALLS))
async def test_no_transaction_is_left_open(sessions: SessionFactory, name: str) -> None:
    async with sessions() as session:
        village = (
            await villages.add_village(session, name="东山村", township="城关镇", province="ZJ")
        ).village
        assert village is not None and village.id is not None
        await roll.import_roll(session, village.id, [RollRow(2, "乙", phone="+8613800138001")], now=NOW)
    async with sessions() as session:
        await CALLS[name](session, village.id)
        assert not session.in_transaction()


@pytest.mark.parametrize("code", ["not a code", invites.new_code()])
async def test_redeem_refusals_end_the_transaction(sessions: SessionFactory, code: str) -> None:
    async with sessions() as session:
        account = await register_account(session, telegram_user_id=1, private_chat_id=1, language_code=None)
    async with sessions() as session:
        outcome = await invites.redeem_invite(session, account, code, now=NOW)
        assert outcome.refusal is not None and not session.in_transaction()
