from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Account


async def get_by_telegram_user_id(session: AsyncSession, telegram_user_id: int) -> Account | None:
    result = await session.exec(select(Account).where(Account.telegram_user_id == telegram_user_id))
    return result.first()


async def get(session: AsyncSession, account_id: int) -> Account | None:
    return await session.get(Account, account_id)
