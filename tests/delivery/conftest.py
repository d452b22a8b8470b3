"""The outbox sender against the Bot API emulator, with the real aiogram Bot and a migrated database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest
from aiogram import Bot
from sqlalchemy import insert
from sqlmodel import select

from bot.services.outbox import BroadcastKind, MessagePayload, OutgoingMessage, enqueue_broadcast
from sandbox.clock import VirtualClock
from sandbox.emulator import Emulator
from sandbox.testing import audit, bot_for
from sandbox.world import SimUser
from storage.db import SessionFactory
from storage.models import Account, Binding, Broadcast, Delivery, Person, Village

TOKEN = "123456:outbox-Test_token"


@pytest.fixture
def clock() -> VirtualClock:
    # Real speed unless a test speeds it up; the sender and the emulator share it.
    return VirtualClock()


@pytest.fixture
async def emu(clock: VirtualClock) -> AsyncIterator[Emulator]:
    async with Emulator(TOKEN, clock=clock) as emulator:
        yield emulator
        # Every request the sender made was valid, and every answer was a real Bot API answer.
        assert emulator.violations == [], emulator.violations[:3]
        audit(emulator)


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Bot]:
    bot = bot_for(emu)
    try:
        yield bot
    finally:
        await bot.session.close()


@dataclass
class Recipient:
    user: SimUser
    account_id: int
    person_id: int
    name: str


async def make_recipients(
    sessions: SessionFactory,
    emu: Emulator,
    count: int,
    *,
    start: bool = True,
    prefix: str = "村民",
) -> list[Recipient]:
    """`count` villagers on one roll, each bound to an account whose Telegram user exists in `emu`."""
    users = [emu.create_user(f"{prefix}{n}", language_code="zh-hans") for n in range(count)]
    if start:
        for user in users:
            # Equivalent to pressing Start, without queueing thousands of /start updates.
            user.started = True
    async with sessions() as session:
        village = Village(name=f"{prefix}村", township="城关镇", province="ZJ")
        session.add(village)
        await session.flush()
        now = village.created_at
        # Bulk inserts (RETURNING in parameter order): thousands of villagers in a blink.
        connection = await session.connection()
        person_ids = (
            (
                await connection.execute(
                    insert(Person.__table__).returning(Person.__table__.c.id, sort_by_parameter_order=True),
                    [
                        {
                            "village_id": village.id,
                            "name": u.first_name,
                            "party_member": False,
                            "migrant": False,
                        }
                        | {"eligible_voter": True, "created_at": now, "updated_at": now}
                        for u in users
                    ],
                )
            )
            .scalars()
            .all()
        )
        account_ids = (
            (
                await connection.execute(
                    insert(Account.__table__).returning(Account.__table__.c.id, sort_by_parameter_order=True),
                    [
                        {"telegram_user_id": u.id, "chat_id": u.id, "created_at": now, "updated_at": now}
                        for u in users
                    ],
                )
            )
            .scalars()
            .all()
        )
        await connection.execute(
            insert(Binding.__table__),
            [
                {"account_id": a, "person_id": p, "method": "contact", "bound_at": now}
                for a, p in zip(account_ids, person_ids, strict=True)
            ],
        )
        await session.commit()
    return [
        Recipient(user=user, account_id=account_id, person_id=person_id, name=user.first_name)
        for user, account_id, person_id in zip(users, account_ids, person_ids, strict=True)
    ]


def text_for(recipient: Recipient) -> str:
    return f"{recipient.name}，您好：请于本周日参加村民代表会议。"


async def broadcast_to(
    sessions: SessionFactory,
    recipients: Sequence[Recipient],
    *,
    texts: Sequence[str] | None = None,
    title: str = "村民代表会议通知",
    progress_chat_id: int | None = None,
    progress_locale: str | None = None,
) -> Broadcast:
    messages = [
        OutgoingMessage(
            account_id=r.account_id,
            chat_id=r.user.id,
            payload=MessagePayload(text=texts[n] if texts is not None else text_for(r)),
            locale="zh_Hans",
        )
        for n, r in enumerate(recipients)
    ]
    async with sessions() as session:
        return await enqueue_broadcast(
            session,
            kind=BroadcastKind.NOTICE,
            title=title,
            village_id=None,
            created_by_account_id=None,
            messages=messages,
            progress_chat_id=progress_chat_id,
            progress_locale=progress_locale,
        )


async def deliveries(sessions: SessionFactory, broadcast_id: int) -> list[Delivery]:
    async with sessions() as session:
        rows = await session.exec(
            select(Delivery).where(Delivery.broadcast_id == broadcast_id).order_by(Delivery.id)  # type: ignore[arg-type]
        )
        return list(rows.all())


def received(emu: Emulator, user: SimUser) -> list[str]:
    """What the user's phone shows from the bot, oldest first."""
    return [event.content for event in emu.bot_messages(user)]
