"""Adding villages and finding them again by name."""

from __future__ import annotations

from bot.rules.policy import Province
from bot.services.villages import (
    VillageLookupRefusal,
    VillageRefusal,
    add_village,
    list_villages,
    locate_village,
    parse_province,
)
from storage.db import SessionFactory


async def test_add_village_cleans_names_and_stores_the_province_by_name(sessions: SessionFactory) -> None:
    async with sessions() as session:
        outcome = await add_village(
            session,
            name=" 东山村 ",
            township="城关镇",
            province="zj",
            county="安吉县",
            committee_contact=" 村委会  0572-1234567 ",
        )
    village = outcome.village
    assert outcome.refusal is None and village is not None
    assert (village.name, village.province, village.county, village.committee_contact) == (
        "东山村", "ZJ", "安吉县", "村委会 0572-1234567",
    )  # fmt: skip
    assert parse_province(village.province) is Province.ZJ


async def test_refusals(sessions: SessionFactory) -> None:
    async with sessions() as session:
        await add_village(session, name="东山村", township="城关镇", province="ZJ")
        cases = {
            VillageRefusal.ALREADY_EXISTS: dict(name="东山村", township="城关镇", province="BJ"),
            VillageRefusal.EMPTY_NAME: dict(name="  ", township="城关镇", province="ZJ"),
            VillageRefusal.EMPTY_TOWNSHIP: dict(name="西山村", township="", province="ZJ"),
            VillageRefusal.UNKNOWN_PROVINCE: dict(name="西山村", township="城关镇", province="GD"),
            VillageRefusal.NAME_TOO_LONG: dict(name="村" * 101, township="城关镇", province="ZJ"),
        }
        for refusal, fields in cases.items():
            assert (await add_village(session, **fields)).refusal is refusal, refusal
        assert len(await list_villages(session)) == 1


async def test_a_name_may_repeat_across_townships(sessions: SessionFactory) -> None:
    async with sessions() as session:
        assert (await add_village(session, name="东山村", township="城关镇", province="ZJ")).village
        assert (
            await add_village(session, name="东山村", township="梅溪镇", province=Province.NATIONAL)
        ).village
        ambiguous = await locate_village(session, "东山村")
        assert ambiguous.refusal is VillageLookupRefusal.AMBIGUOUS
        assert [v.township for v in ambiguous.candidates] == ["城关镇", "梅溪镇"]
        found = await locate_village(session, "东山村", township="梅溪镇")
        assert found.village is not None and found.village.province == "NATIONAL"
        assert (await locate_village(session, "北山村")).refusal is VillageLookupRefusal.NOT_FOUND
