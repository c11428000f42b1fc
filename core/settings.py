"""Settings from the environment and ``.env`` (pydantic-settings). Read once, by ``load()``, in the
composition root (``klerk.cli``) and passed down as a frozen object. Every setting is documented
in ``.env.example`` (a test checks that).
"""
from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KLERK_", env_file=".env", extra="ignore", frozen=True)

    # storage
    data_dir: Path = Field(default=Path("data"), description="Where the SQLite file and documents live")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty = SQLite in data_dir")
    language: str = Field(default="nl", description="Default language for new companies (nl|en)")
    log_level: str = "INFO"
    log_format: str = Field(default="text", description="text (for a terminal) or json (one object per line)")
    storage_url: str = Field(default="", description="Where originals live: empty = data_dir/documents/inbox; "
                             "a directory (e.g. a shared mount); or s3://bucket/prefix")
    s3_endpoint_url: str = Field(default="", description="S3-compatible endpoint (MinIO, Ceph...); empty = AWS")
    s3_region: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: SecretStr = SecretStr("")
    secret_key: SecretStr = Field(default=SecretStr(""), description="Key for secrets at rest (Fernet, base64); "
                                  "empty = a key file in data_dir is made on first use")

    # Telegram (the names Telegram users know; no KLERK_ prefix)
    telegram_bot_token: SecretStr = Field(default=SecretStr(""), validation_alias=AliasChoices(
        "TELEGRAM_BOT_TOKEN", "KLERK_TELEGRAM_BOT_TOKEN"))
    telegram_api_base_url: str = Field(default="https://api.telegram.org", validation_alias=AliasChoices(
        "TELEGRAM_API_BASE_URL", "KLERK_TELEGRAM_API_BASE_URL"))
    public_url: str = Field(default="", description="Public https URL: the bot then uses a webhook")
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    local_chat_port: int = Field(default=8081, description="Without a Telegram token: the local Bot API double")
    scheduler_interval_seconds: int = 600
    scheduler_lease_seconds: int = Field(default=120, description="How long a scheduler copy holds the lease "
                                         "without renewing it; another copy takes over after that")
    worker_concurrency: int = Field(default=2, description="Receipt-reading processes per worker role")

    # outgoing mail (invoices, replies, the accountant)
    smtp_relay_host: str = Field(default="", description="SMTP server for outgoing mail; empty = mail is not sent")
    smtp_relay_port: int = 587
    smtp_relay_user: str = ""
    smtp_relay_password: SecretStr = SecretStr("")
    smtp_relay_starttls: bool = True
    smtp_from: str = Field(default="", description="From address of outgoing mail (and its envelope sender, "
                           "unless bounces go to the ingest)")
    bounces_to_ingest: bool = Field(default=False, description="Send each company's mail with a bounce address on "
                                    "the ingest domain as envelope sender, so delivery reports come back to the "
                                    "SMTP ingest; only when the relay allows that envelope sender and the "
                                    "domain's MX points at the ingest")

    # incoming mail (the receipt inbox)
    smtp_host: str = Field(default="127.0.0.1", description="Address the SMTP ingest listens on")
    smtp_port: int = Field(default=2525, description="Port the SMTP ingest listens on")
    ingest_domain: str = Field(default="klerk.localhost", description="Domain of the ingest addresses")
    max_message_bytes: int = 25 * 1024 * 1024

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
