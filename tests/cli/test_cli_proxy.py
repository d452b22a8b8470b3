"""`cunmin proxy list|publish --election ID`: the roster and the published list from the shell."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from storage.db import SessionFactory
from storage.models import Notice, ProxyAuthorization, ProxyStatus
from tests.e2e.test_proxy import MEMBER, PEOPLE, _election
from tests.factories import grant, make_village
from tests.files.test_publicity import _cjk_font_or_skip
from tests.services.test_elections import me_of


def _invoke(database_url: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {
        "CUNMIN_DATABASE_URL": database_url,
        "CUNMIN_DEFAULT_LOCALE": "en",
        "CUNMIN_DATA_DIR": str(tmp_path),
        "COLUMNS": "250",
    }
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


async def test_list_and_publish(sessions: SessionFactory, database_url: str, tmp_path: Path) -> None:
    _cjk_font_or_skip()
    roll = await make_village(sessions, "青山村", people=PEOPLE)
    await grant(sessions, roll.village, MEMBER, "committee")
    await me_of(sessions, 5001, roll.people["李姐姐"])  # someone linked, to receive the list
    election = await _election(sessions, roll)
    assert election.id is not None
    eid = str(election.id)

    code, out = await asyncio.to_thread(
        _invoke, database_url, tmp_path, "proxy", "publish", "--election", eid
    )
    assert code == 1 and "No proxy has been approved yet: there is nothing to publish." in out

    now = datetime.now(UTC)
    async with sessions() as session:
        for principal, holder, status in (
            ("王外出", "王父亲", ProxyStatus.APPROVED),
            ("李打工", "李姐姐", ProxyStatus.ACCEPTED),
        ):
            session.add(
                ProxyAuthorization(
                    election_id=election.id,
                    principal_person_id=roll.people[principal].id or 0,
                    holder_person_id=roll.people[holder].id or 0,
                    relationship="parent" if principal == "王外出" else "sibling",
                    status=status.value,
                    verification_code=f"CODE{principal == '王外出'}",
                    requested_at=now,
                )
            )
        await session.commit()

    code, out = await asyncio.to_thread(_invoke, database_url, tmp_path, "proxy", "list", "--election", eid)
    assert code == 0, out
    assert "王父亲 (一组)" in out and "王外出" in out and "CODETrue" in out
    assert "李打工" in out and "the relative agreed; waiting for the committee" in out

    code, out = await asyncio.to_thread(
        _invoke, database_url, tmp_path, "proxy", "publish", "--election", eid
    )
    assert code == 0, out
    assert "Published. Fingerprint of the proxy list:" in out
    async with sessions() as session:
        notice = (await session.exec(select(Notice).where(Notice.list_kind == "proxies"))).one()
        approved = (
            await session.exec(select(ProxyAuthorization).where(ProxyAuthorization.status == "approved"))
        ).one()
    assert notice.fingerprint is not None and approved.published_fingerprint == notice.fingerprint

    code, out = await asyncio.to_thread(_invoke, database_url, tmp_path, "proxy", "list", "--election", "999")
    assert code == 1 and "There is no election 999." in out
