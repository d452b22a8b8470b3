"""`cunmin notice send|status` and `cunmin publicity roll` queue exactly the audience's copies."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.files.publicity import read_publicity_xlsx
from storage.db import SessionFactory
from storage.models import Account, Binding, Delivery, Notice
from tests.factories import make_village


async def _village_with_accounts(sessions: SessionFactory) -> None:
    roll = await make_village(
        sessions,
        "青山村",
        people=[
            {"name": "王建国", "phone": "+8613800000001", "group": "一组", "party_member": True},
            {"name": "李秀英", "phone": "+8613800000002", "group": "二组"},
            {"name": "孙老汉", "phone": None, "group": "一组"},
        ],
    )
    async with sessions() as session:
        for index, (name, locale) in enumerate((("王建国", None), ("李秀英", "en")), start=1):
            account = Account(
                telegram_user_id=1000 + index,
                chat_id=1000 + index,
                locale=locale,
                telegram_language_code="zh-hans",
            )
            session.add(account)
            await session.flush()
            assert account.id is not None
            session.add(Binding(account_id=account.id, person_id=roll.people[name].id or 0, method="contact"))
        await session.commit()


def _invoke(database_url: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {
        "CUNMIN_DATABASE_URL": database_url,
        "CUNMIN_DEFAULT_LOCALE": "en",
        "CUNMIN_DATA_DIR": str(tmp_path),
    }
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


async def test_notice_send_queues_each_linked_person_in_their_language(
    sessions: SessionFactory, database_url: str, tmp_path: Path
) -> None:
    await _village_with_accounts(sessions)
    body = tmp_path / "body.txt"
    body.write_text("明天上午九点开会。", encoding="utf-8")
    code, output = await asyncio.to_thread(
        _invoke, database_url, tmp_path, "notice", "send", "--village", "青山村",
        "--title", "开会通知", "--body-file", str(body), "--ack",
    )  # fmt: skip
    assert code == 0, output
    assert "queued for 2 people (1 in the audience are not linked" in output
    async with sessions() as session:
        copies = {d.chat_id: d.payload for d in (await session.exec(select(Delivery))).all()}
    assert set(copies) == {1001, 1002}
    assert "青山村村民选举委员会公告" in copies[1001]  # Telegram's language: Simplified Chinese
    assert "Notice from the election committee of 青山村" in copies[1002]  # her own choice: English

    code, output = await asyncio.to_thread(_invoke, database_url, tmp_path, "notice", "status", "1")
    assert code == 0, output
    assert "Delivered: 2 of 2" in output and "孙老汉" in output


async def test_notice_send_refuses_bad_input_and_writes_nothing(
    sessions: SessionFactory, database_url: str, tmp_path: Path
) -> None:
    await _village_with_accounts(sessions)
    empty = tmp_path / "empty.txt"
    empty.write_text("   ", encoding="utf-8")
    code, output = await asyncio.to_thread(
        _invoke,
        database_url,
        tmp_path,
        "notice",
        "send",
        "--village",
        "青山村",
        "--title",
        "T",
        "--body-file",
        str(empty),
    )
    assert code == 1 and "The text is empty" in output
    code, output = await asyncio.to_thread(
        _invoke, database_url, tmp_path, "notice", "send", "--village", "青山村", "--title", "T",
        "--body-file", str(empty), "--audience", "group:三组",
    )  # fmt: skip
    assert code != 0
    code, output = await asyncio.to_thread(
        _invoke,
        database_url,
        tmp_path,
        "notice",
        "send",
        "--village",
        "白水村",
        "--title",
        "T",
        "--body-file",
        str(empty),
    )
    assert code == 1
    async with sessions() as session:
        assert (await session.exec(select(Notice))).all() == []
        assert (await session.exec(select(Delivery))).all() == []


async def test_publicity_roll_writes_documents_whose_fingerprint_matches(
    sessions: SessionFactory, database_url: str, tmp_path: Path
) -> None:
    await _village_with_accounts(sessions)
    code, output = await asyncio.to_thread(
        _invoke, database_url, tmp_path, "publicity", "roll", "--village", "青山村"
    )
    assert code == 0, output
    async with sessions() as session:
        notice = (await session.exec(select(Notice))).one()
    assert notice.fingerprint is not None and notice.fingerprint in output
    xlsx = next((tmp_path / "publicity").glob("*.xlsx"))
    assert read_publicity_xlsx(xlsx).fingerprint() == notice.fingerprint
    assert notice.objection_deadline is not None
