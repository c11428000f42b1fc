"""Settings from the environment and ``.env`` (pydantic-settings). Read once, by ``load()``, in the
composition root (``klerk.cli``) and passed down as a frozen object. Every setting is documented
in ``.env.example``.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KLERK_", env_file=".env", extra="ignore", frozen=True)

    data_dir: Path = Field(default=Path("data"), description="Where the SQLite file and documents live")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty = SQLite in data_dir")
    language: str = Field(default="nl", description="Default language for new companies (nl|en)")
    log_level: str = "INFO"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'klerk.sqlite3').resolve()}"

    @property
    def documents_dir(self) -> Path:
        return self.data_dir / "documents"


def load(**overrides: object) -> Settings:
    """The only place that reads ``os.environ`` (through pydantic-settings)."""
    return Settings(**overrides)  # type: ignore[arg-type]
