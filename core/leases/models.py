"""The ``lease`` table: one row per named lease (see ``core.leases``)."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class Lease(SQLModel, table=True):
    name: str = Field(primary_key=True, max_length=60)
    holder: str = Field(max_length=200)
    expires_at: datetime
