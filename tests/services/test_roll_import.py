"""Importing a roll: all-or-nothing, people matched in place, removals marked, one village per voter."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func
from sqlmodel import col, select

from bot.files.roll import RollField, RollProblem, RollRow, read_roll, write_roll_xlsx
from bot.services.accounts import register_account
from bot.services.roll import RollImportOutcome, RollImportRefusal, import_roll, list_roll
from bot.services.villages import add_village
from storage.db import SessionFactory
from storage.models import Binding, Person, Village, VillagerGroup

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=7)


def example_rows() -> list[RollRow]:
    reading = read_roll(EXAMPLES / "roll.xlsx", election_year=2026)
    assert reading.ok
    return list(reading.rows)


async def new_village(sessions: SessionFactory, name: str = "东山村", township: str = "城关镇") -> Village:
    async with sessions() as session:
        outcome = await add_village(session, name=name, township=township, province="ZJ")
    assert outcome.village is not None and outcome.village.id is not None
    return outcome.village


async def run_import(
    sessions: SessionFactory, village: Village, rows: list[RollRow], now: datetime = NOW
) -> RollImportOutcome:
    assert village.id is not None
    async with sessions() as session:
        return await import_roll(session, village.id, rows, now=now)


async def people(sessions: SessionFactory, village: Village) -> dict[str, Person]:
    async with sessions() as session:
        found = (await session.exec(select(Person).where(Person.village_id == village.id))).all()
    return {person.name: person for person in found}


async def count(sessions: SessionFactory, model: type[Person] | type[VillagerGroup], village: Village) -> int:
    async with sessions() as session:
        statement = select(func.count()).select_from(model).where(col(model.village_id) == village.id)
        return (await session.exec(statement)).one()


async def bind(sessions: SessionFactory, person: Person, telegram_user_id: int) -> Binding:
    async with sessions() as session:
        account = await register_account(
            session, telegram_user_id=telegram_user_id, private_chat_id=telegram_user_id, language_code="zh"
        )
        assert account.id is not None and person.id is not None
        binding = Binding(account_id=account.id, person_id=person.id, method="contact")
        session.add(binding)
        await session.commit()
        return binding


async def test_first_import_adds_everyone_and_the_groups(sessions: SessionFactory) -> None:
    village = await new_village(sessions)
    outcome = await run_import(sessions, village, example_rows())
    assert outcome.refusal is None
    assert (outcome.added, outcome.changed, outcome.removed, outcome.unchanged) == (20, (), (), 0)
    assert outcome.groups_added == ("一组", "二组", "三组")
    stored = await people(sessions, village)
    assert len(stored) == 20
    wang = stored["王建国"]
    assert (wang.phone, wang.gender, wang.party_status, wang.created_at) == (
        "+8613800138001",
        "M",
        "full",
        NOW,
    )
    assert stored["陈小宇"].eligible_voter is False


async def test_a_problem_in_one_row_writes_nothing_at_all(sessions: SessionFactory) -> None:
    home = await new_village(sessions)
    other = await new_village(sessions, "西山村", "梅溪镇")
    await run_import(sessions, home, example_rows())
    newcomer = RollRow(row_number=2, name="钱多多", phone="+8613900000001", group="五组")
    rows = [newcomer, *(replace(r, row_number=r.row_number + 1, phone=None) for r in example_rows()[:9])]
    rows.append(RollRow(row_number=12, name="王建国", phone="+8613800138001", group="五组"))

    outcome = await run_import(sessions, other, rows)

    assert outcome.refusal is RollImportRefusal.ROW_PROBLEMS
    [problem] = outcome.problems
    assert (problem.row_number, problem.column, problem.reason) == (
        12,
        "手机号",
        RollProblem.PHONE_ON_ANOTHER_VILLAGE,
    )
    assert (problem.value, problem.village, problem.other_village) == (
        "13800138001",
        "梅溪镇西山村",
        "城关镇东山村",
    )
    assert await count(sessions, Person, other) == 0
    assert await count(sessions, VillagerGroup, other) == 0
    assert await count(sessions, Person, home) == 20


async def test_duplicates_handed_in_directly_are_refused_too(sessions: SessionFactory) -> None:
    village = await new_village(sessions)
    rows = [RollRow(2, "甲", phone="+8613800138000"), RollRow(3, "乙", phone="+8613800138000")]
    outcome = await run_import(sessions, village, rows)
    assert outcome.refusal is RollImportRefusal.ROW_PROBLEMS
    assert [(p.row_number, p.other_row, p.reason) for p in outcome.problems] == [
        (3, 2, RollProblem.DUPLICATE_PHONE)
    ]
    assert await count(sessions, Person, village) == 0


async def test_an_empty_roll_would_remove_everyone_and_is_refused(sessions: SessionFactory) -> None:
    village = await new_village(sessions)
    await run_import(sessions, village, example_rows())
    outcome = await run_import(sessions, village, [], LATER)
    assert outcome.refusal is RollImportRefusal.EMPTY_ROLL
    assert all(p.removed_at is None for p in (await people(sessions, village)).values())


async def test_unknown_village(sessions: SessionFactory) -> None:
    async with sessions() as session:
        outcome = await import_roll(session, 999, example_rows(), now=NOW)
    assert outcome.refusal is RollImportRefusal.VILLAGE_NOT_FOUND


async def test_reimport_matches_in_place_keeps_bindings_and_reports_what_changed(
    sessions: SessionFactory,
) -> None:
    village = await new_village(sessions)
    await run_import(sessions, village, example_rows())
    before = await people(sessions, village)
    wang_binding = await bind(sessions, before["王建国"], 1001)
    zhao_binding = await bind(sessions, before["赵敏"], 1002)

    rows = example_rows()
    changed = {
        "王建国": lambda r: replace(r, group="二组", notes=None),  # moved to another group
        "张桂兰": lambda r: replace(r, phone="+8613900000002"),  # got a phone: found by name + household
        "王磊": lambda r: replace(r, phone="+8613900000003", migrant=False, works_in=None),  # new phone
    }
    rows = [changed[r.name](r) if r.name in changed else r for r in rows if r.name != "赵敏"]
    rows.append(RollRow(row_number=22, name="钱多多", phone="+8613900000004", group="四组"))

    outcome = await run_import(sessions, village, rows, LATER)

    assert outcome.refusal is None
    assert outcome.added == 1 and outcome.unchanged == 16
    assert outcome.groups_added == ("四组",)
    assert {c.name: set(c.fields) for c in outcome.changed} == {
        "王建国": {RollField.GROUP, RollField.NOTES},
        "张桂兰": {RollField.PHONE},
        "王磊": {RollField.PHONE, RollField.MIGRANT, RollField.WORKS_IN},
    }
    assert [(r.name, r.person_id) for r in outcome.removed] == [("赵敏", before["赵敏"].id)]

    after = await people(sessions, village)
    assert {name: p.id for name, p in after.items() if name in before} == {n: p.id for n, p in before.items()}
    assert after["赵敏"].removed_at == LATER  # marked, not deleted
    assert after["王建国"].updated_at == LATER and after["李秀英"].updated_at == NOW
    async with sessions() as session:
        bindings = (await session.exec(select(Binding))).all()
    assert {(b.id, b.person_id) for b in bindings} == {
        (wang_binding.id, before["王建国"].id), (zhao_binding.id, before["赵敏"].id),
    }  # fmt: skip
    async with sessions() as session:
        assert village.id is not None
        listed = await list_roll(session, village.id)
    assert len(listed) == 20 and "赵敏" not in {e.person.name for e in listed}
    assert [e.bound for e in listed if e.person.name == "王建国"] == [True]


async def test_a_person_who_comes_back_is_put_back_on_the_roll(sessions: SessionFactory) -> None:
    village = await new_village(sessions)
    await run_import(sessions, village, example_rows())
    await run_import(
        sessions, village, [r for r in example_rows() if r.name not in ("赵敏", "张桂兰")], LATER
    )
    again = await run_import(sessions, village, example_rows(), LATER + timedelta(days=1))
    assert again.refusal is None
    assert sorted(c.name for c in again.returned) == ["张桂兰", "赵敏"]
    assert (again.added, again.changed, again.removed, again.unchanged) == (0, (), (), 18)
    assert all(p.removed_at is None for p in (await people(sessions, village)).values())
    assert await count(sessions, Person, village) == 20


async def test_phones_swapped_between_two_people(sessions: SessionFactory) -> None:
    village = await new_village(sessions)
    rows = [
        RollRow(2, "甲", phone="+8613800138000", household="1"),
        RollRow(3, "乙", phone="+8613800138001", household="1"),
    ]
    await run_import(sessions, village, rows)
    swapped = [replace(rows[0], phone="+8613800138001"), replace(rows[1], phone="+8613800138000")]
    outcome = await run_import(sessions, village, swapped, LATER)
    # The phone is who a person is: the two rows now hold each other's phone, so names changed.
    assert outcome.refusal is None and {c.fields for c in outcome.changed} == {(RollField.NAME,)}
    stored = await people(sessions, village)
    assert (stored["甲"].phone, stored["乙"].phone) == ("+8613800138001", "+8613800138000")


async def test_a_phone_given_up_in_one_village_may_move_to_another(sessions: SessionFactory) -> None:
    home = await new_village(sessions)
    other = await new_village(sessions, "西山村", "梅溪镇")
    await run_import(sessions, home, example_rows())
    await run_import(sessions, home, [r for r in example_rows() if r.name != "王建国"], LATER)
    moved = [r for r in example_rows() if r.name == "王建国"]
    outcome = await run_import(sessions, other, moved, LATER)
    assert outcome.refusal is None and outcome.added == 1


async def test_a_group_written_another_way_is_renamed_not_duplicated(sessions: SessionFactory) -> None:
    village = await new_village(sessions)
    await run_import(sessions, village, example_rows())
    respelled = [
        replace(r, group={"一组": "1组", "二组": "2组", "三组": "3组"}[r.group or ""]) for r in example_rows()
    ]
    outcome = await run_import(sessions, village, respelled, LATER)
    assert outcome.refusal is None and outcome.unchanged == 20 and outcome.groups_added == ()
    async with sessions() as session:
        groups = (
            await session.exec(select(VillagerGroup.name).where(VillagerGroup.village_id == village.id))
        ).all()
    assert sorted(groups) == ["1组", "2组", "3组"]


async def test_export_then_import_changes_nothing(sessions: SessionFactory, tmp_path: Path) -> None:
    village = await new_village(sessions)
    await run_import(sessions, village, example_rows())
    await bind(sessions, (await people(sessions, village))["周丽"], 2001)
    async with sessions() as session:
        assert village.id is not None
        entries = await list_roll(session, village.id)
    path = tmp_path / "export.xlsx"
    write_roll_xlsx(path, entries)
    reading = read_roll(path, election_year=2026)
    assert reading.ok and reading.ignored_columns == ()
    outcome = await run_import(sessions, village, list(reading.rows), LATER)
    assert (outcome.added, outcome.changed, outcome.returned, outcome.removed, outcome.unchanged) == (
        0,
        (),
        (),
        (),
        20,
    )


async def test_thousands_of_rows_in_batches(sessions: SessionFactory) -> None:
    village = await new_village(sessions)
    rows = [
        RollRow(
            n + 2,
            f"村民{n}",
            phone=f"+86139{n:08d}" if n % 10 else None,
            group=f"{n % 12 + 1}组",
            household=str(n),
        )
        for n in range(2_500)
    ]
    first = await run_import(sessions, village, rows)
    assert first.added == 2_500
    changed = [replace(r, notes="已核对") if r.row_number % 3 == 0 else r for r in rows[:-100]]
    second = await run_import(sessions, village, changed, LATER)
    assert (second.added, len(second.changed), len(second.removed)) == (0, 800, 100)
    assert second.unchanged == 2_400 - 800
