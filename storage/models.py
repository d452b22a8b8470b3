"""SQLModel tables. Every schema change comes with an Alembic migration in storage/migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, String, Text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class Account(SQLModel, table=True):
    """A Telegram user who has written to the bot (not yet a person on a roll)."""

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    # Telegram ids need up to 52 significant bits: always 64-bit columns.
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # The locale the person picked with /language; None means "follow Telegram's language".
    locale: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    telegram_language_code: str | None = Field(default=None, sa_column=Column(String(35), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class FsmRecord(SQLModel, table=True):
    """One conversation's state and data, so a half-finished wizard survives a restart."""

    __tablename__ = "fsm_record"

    key: str = Field(sa_column=Column(String(255), primary_key=True))
    state: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
