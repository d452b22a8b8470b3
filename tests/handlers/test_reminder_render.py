"""Every wave kind has words, in every language, and non-essential ones say how to turn them off."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import build_i18n
from bot.rules.policy import Position
from bot.services.notices import Recipient
from bot.services.reminders import WAVE_KINDS, FinalResults, WaveSubject
from handlers.reminder_render import PERSONAL_RENDERERS, RENDERERS, wave_renderer
from handlers.reminders import kind_label, parse_local_time
from storage.models import (
    Election,
    Notice,
    ReminderWave,
    ResultEntry,
    ScheduledNotice,
    Village,
    VillageReminderSettings,
)

ZONE = ZoneInfo("Asia/Shanghai")


def _subject(kind: str) -> WaveSubject:
    spec = WAVE_KINDS[kind]
    moment = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    wave = ReminderWave(
        key=f"x:{kind}",
        village_id=1,
        subject="x",
        phase="p",
        kind=kind,
        essential=spec.essential,
        due_at=moment,
    )
    return WaveSubject(
        wave=wave,
        village=Village(
            id=1, name="青山村", township="城关镇", province="ZJ", committee_contact="村委会 0571-1234567"
        ),
        settings=VillageReminderSettings(
            village_id=1,
            time_zone="Asia/Shanghai",
            quiet_start=time(21),
            quiet_end=time(8),
            polling_place="村委会大院",
        ),
        election=Election(
            id=7,
            village_id=1,
            kind="party_two_ballots",
            province="zj",
            title="村党支部换届",
            election_day=date(2026, 12, 20),
            recommendation_closes=moment,
            trust_vote_closes=moment,
            proxy_deadline=date(2026, 12, 17),
        ),
        notice=Notice(
            village_id=1,
            kind="publicity",
            title="选民名单",
            body="…",
            audience="all",
            draft_key="k",
            objection_deadline=moment,
        ),
        scheduled=ScheduledNotice(village_id=1, text="明天开会", send_at=moment),
        results=FinalResults(
            entry=ResultEntry(
                election_id=1, round="first", version=1, registered=20, fingerprint="ab12" * 16,
                entered_at=moment,
            ),
            election=Election(
                village_id=1, kind="village_committee", province="zj", title="第十二届村民委员会选举",
                election_day=date(2026, 12, 20),
            ),
            elected=((Position.DIRECTOR, ("王伟",)), (Position.MEMBER, ("张强", "刘芳"))),
        ),
        details={1: (("王外出", "parent"), ("李打工", "sibling"))},
    )  # fmt: skip


def test_every_kind_has_a_renderer() -> None:
    assert set(RENDERERS) | set(PERSONAL_RENDERERS) == set(WAVE_KINDS)
    assert not set(RENDERERS) & set(PERSONAL_RENDERERS)


@pytest.mark.parametrize("kind", sorted(WAVE_KINDS))
@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant", "en"])
def test_each_kind_renders_in_each_language(kind: str, locale: str) -> None:
    i18n = build_i18n("zh_Hans")
    payload = wave_renderer(i18n)(_subject(kind), Recipient(1, 1, locale, "王建国"))
    assert payload.text
    assert ("/reminders" in payload.text) is (not WAVE_KINDS[kind].essential)
    assert "青山村" in payload.text or "村党支部换届" in payload.text
    with i18n.context(), i18n.use_locale(locale):
        assert kind_label(kind) != kind


def test_proxy_waves_name_the_deadline_and_migrants_can_answer_at_once() -> None:
    i18n = build_i18n("zh_Hans")
    render = wave_renderer(i18n)
    intent = render(_subject("proxy_intent_close_24h"), Recipient(1, 1, "zh_Hans", "王"))
    assert "12月17日" in (intent.text or "") and intent.reply_markup is not None
    buttons = [b["callback_data"] for row in intent.reply_markup["inline_keyboard"] for b in row]
    assert len(buttons) == 4  # the four intent answers
    holder = render(_subject("proxy_holder_close_48h"), Recipient(1, 1, "en", "Wang"))
    assert "/proxy" in (holder.text or "") and holder.reply_markup is None
    form = render(_subject("proxy_form_close_24h"), Recipient(1, 1, "en", "Wang"))
    assert "0571-1234567" in (form.text or "")


def test_each_holder_is_told_their_own_principals() -> None:
    i18n = build_i18n("zh_Hans")
    render = wave_renderer(i18n)
    mine = render(_subject("election_day_holders"), Recipient(1, 1, "zh_Hans", "王父亲")).text or ""
    assert "王外出" in mine and "李打工" in mine
    other = render(_subject("election_day_holders"), Recipient(2, 2, "zh_Hans", "别人")).text or ""
    assert "王外出" not in other


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("zh_Hans", ["已成为最终结果", "主任：王伟", "委员：张强、刘芳"]),
        ("en", ["now final", "Director: 王伟"]),
    ],
)
def test_results_final_names_election_elected_fingerprint_and_results(locale: str, words: list[str]) -> None:
    i18n = build_i18n("zh_Hans")
    text = wave_renderer(i18n)(_subject("results_final"), Recipient(1, 1, locale, "王")).text or ""
    for word in [*words, "第十二届村民委员会选举", "ab12 ab12 ab12 ab12", "/results"]:
        assert word in text


def test_election_day_tells_place_and_what_to_bring() -> None:
    i18n = build_i18n("zh_Hans")
    text = wave_renderer(i18n)(_subject("election_day_morning"), Recipient(1, 1, "zh_Hans", "王")).text or ""
    assert "村委会大院" in text and "身份证" in text and "0571-1234567" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-05 08:00", datetime(2026, 12, 5, 8, 0, tzinfo=ZONE)),
        ("12-05 8:30", datetime(2026, 12, 5, 8, 30, tzinfo=ZONE)),
        ("12月5日 8点", datetime(2026, 12, 5, 8, 0, tzinfo=ZONE)),
        ("11-30 08:00", datetime(2027, 11, 30, 8, 0, tzinfo=ZONE)),  # passed this year: next year
        ("2026-02-30 08:00", None),
        ("明天", None),
    ],
)
def test_parse_local_time(text: str, expected: datetime | None) -> None:
    assert parse_local_time(text, ZONE, datetime(2026, 12, 1, 10, 0, tzinfo=ZONE)) == expected
