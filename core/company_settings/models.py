"""The ``company_setting`` table: per company, a small key/value store for settings that have no
column on ``Company`` (yet): e-mail sending, reminder schedule and texts, onboarding progress.
Keys and their cleaners are listed in ``core.company_settings.KEYS``.
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.models import utcnow


class CompanySetting(SQLModel, table=True):
    __tablename__ = "company_setting"
    company_id: int = Field(foreign_key="company.id", primary_key=True)
    key: str = Field(max_length=60, primary_key=True)
    value: str = Field(default="", max_length=5000)
    updated_at: datetime = Field(default_factory=utcnow)
