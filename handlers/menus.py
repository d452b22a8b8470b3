"""The command menus Telegram shows beside the text field, one per language."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __
from babel.support import LazyProxy

# (command, description) in menu order; descriptions are translated per menu language.
Menu = tuple[tuple[str, LazyProxy], ...]
COMMANDS: Menu = (
    ("start", __("What Cunmin is, and how to begin")),
    ("help", __("What you can do here")),
    ("me", __("What the voter roll says about me")),
    ("notices", __("Notices I have received")),
    ("objection", __("Object to a public list")),
    ("recommend", __("Recommend candidates")),
    ("trust", __("Trust vote (two-ballot system)")),
    ("ask", __("Ask the candidates a question")),
    ("questions", __("Questions to the candidates and their answers")),
    ("results", __("Election results of my village")),
    ("reminders", __("Reminders: turn them off or on; for the committee, the plan")),
    ("proxy", __("Cannot come home? A relative votes for you")),
    ("language", __("Change the language")),
    ("cancel", __("Stop what you are doing")),
    ("forget", __("Unlink this Telegram account from the roll")),
)

# Shown by /help to election committee members (and, for the views, supervisors and observers).
COMMITTEE_COMMANDS: Menu = (
    ("roll", __("The voter roll: counts, and a search by name")),
    ("election", __("Set up an election from the legal rules")),
    ("elections", __("Elections: open one, see its rules")),
    ("tally", __("Recommendation counts and the candidate list")),
    ("notice", __("Write a notice to villagers")),
    ("publish_roll", __("Publish the voter roll (public list with PDF)")),
    ("objections", __("Objections raised, open and answered")),
    ("questions", __("Questions to the candidates: pass on, reject, publish")),
    ("count", __("Enter, confirm and publish the election results")),
    ("committeegroup", __("Send it in the committee's Telegram group: results are posted there too")),
    ("audit", __("The log of the committee's actions (hash-chained)")),
    ("proxies", __("Proxy votes: review, migrant workers' answers, the list")),
)

# In a group (the committee's), only what is for everyone there (handlers/groups.py).
GROUP_MENU: Menu = (
    ("results", __("Election results of my village")),
    ("committeegroup", __("Make this the election committee's group (committee members only)")),
    ("help", __("What you can do here")),
)

# setMyCommands takes a two-letter ISO 639-1 code, so Traditional Chinese shares the "zh" menu;
# the menu with no language code is the fallback for everyone else, in the deployment's default.
MENU_LOCALES: dict[str, str] = {"zh": "zh_Hans", "en": "en"}


def menu_for(i18n: I18n, locale: str, commands: Menu = COMMANDS) -> list[BotCommand]:
    with i18n.context(), i18n.use_locale(locale):
        return [BotCommand(command=name, description=str(text)) for name, text in commands]


async def register_command_menus(bot: Bot, i18n: I18n) -> None:
    menus: list[tuple[BotCommandScopeDefault | BotCommandScopeAllGroupChats, Menu]] = [
        (BotCommandScopeDefault(), COMMANDS),
        (BotCommandScopeAllGroupChats(), GROUP_MENU),
    ]
    for scope, commands in menus:
        for language_code, locale in MENU_LOCALES.items():
            await bot.set_my_commands(
                menu_for(i18n, locale, commands), scope=scope, language_code=language_code
            )
        await bot.set_my_commands(menu_for(i18n, i18n.default_locale, commands), scope=scope)
