from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import FsmRecord


async def get(session: AsyncSession, key: str) -> FsmRecord | None:
    return await session.get(FsmRecord, key)
