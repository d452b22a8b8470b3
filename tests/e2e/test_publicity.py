"""The voter roll published as a publicity list: PDF, XLSX, fingerprint; an objection and its answer."""

from __future__ import annotations

import re
from pathlib import Path

from bot.files.publicity import read_publicity_xlsx
from storage.db import SessionFactory
from tests.e2e.conftest import Harness
from tests.factories import grant, make_village

MEMBER, SUPERVISOR = "+8613900000001", "+8613900000002"


async def test_roll_publicity_fingerprint_objection_and_answer(
    harness: Harness, sessions: SessionFactory, tmp_path: Path
) -> None:
    people = [
        {"name": "赵主任", "phone": MEMBER, "group": "一组", "gender": "M", "birth_year": 1970},
        {"name": "钱监督", "phone": SUPERVISOR, "group": "一组", "gender": "F", "birth_year": 1965},
        {"name": "王建国", "phone": "+8613800000001", "group": "一组", "gender": "M", "birth_year": 1960},
        {"name": "李秀英", "phone": "+8613800000002", "group": "二组", "gender": "F", "birth_year": 1980},
        {"name": "小明", "phone": None, "group": "二组", "birth_year": 2012, "eligible_voter": False},
    ]
    roll = await make_village(sessions, "青山村", people=people)
    await grant(sessions, roll.village, MEMBER, "committee")
    await grant(sessions, roll.village, SUPERVISOR, "supervisor")
    member = await harness.linked("赵主任", MEMBER, "zh-hans")
    supervisor = await harness.linked("钱监督", SUPERVISOR, "zh-hans")
    wang = await harness.linked("建国", "+8613800000001", "zh-hans")

    await harness.say(wang, "/publish_roll")  # a villager may not
    assert harness.emu.last_bot_message(wang).content == "抱歉，这个功能只有本村的选举委员会可以用。"  # type: ignore[union-attr]

    await harness.emu.user_sends(member, "/publish_roll")
    done = await harness.emu.wait_for(member, lambda e: e.content.startswith("已公示"), timeout=20)
    stated = re.search(r"[0-9a-f]{64}", done.content)
    assert stated is not None

    text = await harness.emu.wait_for(wang, lambda e: "选民名单公示" in e.content, timeout=10)
    assert "共 4 名选民" in text.content and "一组：3 人" in text.content and "二组：1 人" in text.content
    grouped = " ".join(stated.group(0)[i : i + 4] for i in range(0, 64, 4))
    assert grouped in text.content
    pdf = await harness.emu.wait_for(
        wang, lambda e: e.document is not None and e.document.file_name.endswith(".pdf")
    )
    sheet = await harness.emu.wait_for(
        wang, lambda e: e.document is not None and e.document.file_name.endswith(".xlsx")
    )
    assert pdf.document is not None and harness.emu.file_bytes(pdf.document.file_id).startswith(b"%PDF")
    # Anyone can recompute the fingerprint from the spreadsheet alone.
    assert sheet.document is not None
    path = tmp_path / "received.xlsx"
    path.write_bytes(harness.emu.file_bytes(sheet.document.file_id))
    recomputed = read_publicity_xlsx(path)
    assert recomputed.fingerprint() == stated.group(0)
    assert [row[1] for row in recomputed.rows] == [
        "赵主任",
        "钱监督",
        "王建国",
        "李秀英",
    ]  # 小明 is not a voter

    # An objection through the button under the list, delivered to both committees.
    await harness.emu.user_presses(wang, sheet, text="✋ 提出异议")
    assert "请在一条消息里写清楚" in (await harness.emu.wait_for(wang)).content
    await harness.emu.user_sends(wang, "我儿子王小军18岁了，名单上没有他。")
    assert "您的异议已发给" in (await harness.emu.wait_for(wang)).content
    for reader in (member, supervisor):
        got = await harness.emu.wait_for(
            reader, lambda e: "异议" in e.content and "王小军" in e.content, timeout=10
        )
        assert "来自王建国" in got.content
    objection = harness.emu.last_bot_message(supervisor)
    assert objection is not None
    # Only the election committee answers; the supervisor's press is refused.
    refused = await harness.emu.user_presses(supervisor, objection, text="回复")
    assert (
        await harness.emu.wait_for_callback_answer(refused)
    ).text == "抱歉，这个功能只有本村的选举委员会可以用。"

    to_answer = harness.emu.last_bot_message(member)
    assert to_answer is not None and to_answer.button_texts == ["回复"]
    await harness.emu.user_presses(member, to_answer, text="回复")
    await harness.emu.wait_for(member, lambda e: "回复" in e.content)
    await harness.emu.user_sends(member, "已核实，王小军已补登，更正名单将另行公示。")
    assert "回复已记录" in (await harness.emu.wait_for(member, lambda e: "回复已记录" in e.content)).content
    answer = await harness.emu.wait_for(wang, lambda e: "作了回复" in e.content, timeout=10)
    assert "王小军已补登" in answer.content and "名单上没有他" in answer.content
    counts = await harness.say(member, "/objections")
    assert "青山村：0 条异议待回复，1 条已回复。" in counts.content
