"""The inbox store on S3-compatible object storage (AWS S3, MinIO, Ceph, Garage...), for running the
SMTP, IMAP and worker roles on several machines.

Same interface and the same relative names as ``FileStore``; the object key is ``<prefix>/<name>``.
Durability: S3 acknowledges a PutObject only once the object is stored durably, so ``write_raw``
returns (and the SMTP ingest answers 250) only after PutObject succeeded; every failure raises.
Originals are content addressed: when the object exists with the same size, nothing is uploaded.
boto3 is imported here only, when ``KLERK_STORAGE_URL`` is an ``s3://`` URL.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.errors import NotFoundError, ValidationError
from core.inbox.store import is_safe_name, original_name, raw_name

if TYPE_CHECKING:
    from core.settings import Settings

_MISSING = {"404", "NoSuchKey", "NotFound"}


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (``bucket``, ``some/prefix``)."""
    if not url.startswith("s3://"):
        raise ValidationError("storage_url", "Use a directory or s3://bucket/prefix")
    bucket, _, prefix = url[len("s3://"):].partition("/")
    if not bucket:
        raise ValidationError("storage_url", "The S3 URL has no bucket: s3://bucket/prefix")
    return bucket, prefix.strip("/")


def make_s3_client(*, endpoint_url: str = "", region: str = "", access_key_id: str = "",
                   secret_access_key: str = "") -> Any:
    """A boto3 S3 client (thread-safe; make one per process). Empty values fall back to boto3's own
    configuration. A custom endpoint gets path-style addressing, which MinIO and Ceph expect."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=10, read_timeout=60, retries={"mode": "standard", "max_attempts": 5},
                    s3={"addressing_style": "path"} if endpoint_url else {})
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint_url or None, region_name=region or None,
        aws_access_key_id=access_key_id or None, aws_secret_access_key=secret_access_key or None, config=config)


def _missing(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", "")) in _MISSING


class S3Store:
    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix.strip("/")

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Store:
        bucket, prefix = parse_s3_url(settings.storage_url.strip())
        client = make_s3_client(endpoint_url=settings.s3_endpoint_url, region=settings.s3_region,
                                access_key_id=settings.s3_access_key_id,
                                secret_access_key=settings.s3_secret_access_key.get_secret_value())
        return cls(client, bucket, prefix)

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def write_raw(self, data: bytes, *, now: datetime) -> str:
        """Store a raw mail under a new name; returns its name once S3 has acknowledged it."""
        rel = raw_name(now)
        self._put(rel, data, "message/rfc822")
        return rel

    def write_original(self, data: bytes, ext: str) -> tuple[str, str]:
        """Store an original by its hash; returns (name, sha256). Idempotent: an object of the same
        size under the same hash is not uploaded again."""
        rel, digest = original_name(data, ext)
        if self._size(rel) != len(data):
            self._put(rel, data, "application/octet-stream")
        return rel, digest

    def read(self, rel: str) -> bytes:
        if not is_safe_name(rel):
            raise NotFoundError("no such file in the store")
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key(rel))
        except self.client.exceptions.ClientError as exc:
            if _missing(exc):
                raise NotFoundError("the stored file is missing") from None
            raise
        body = response["Body"]
        try:
            return body.read()
        finally:
            body.close()

    def put(self, rel: str, data: bytes) -> None:
        """Write ``data`` under exactly ``rel`` (restoring a backup)."""
        if not is_safe_name(rel):
            raise ValidationError("path", "Not a name inside the store")
        self._put(rel, data, "application/octet-stream")

    def size(self, rel: str) -> int | None:
        """The object's size in bytes, ``None`` when it is not there."""
        return self._size(rel) if is_safe_name(rel) else None

    def list_files(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        """(name, last modified) of every object under ``prefix`` (S3 lists keys in name order)."""
        start = self.key(prefix) if prefix else (f"{self.prefix}/" if self.prefix else "")
        cut = len(self.prefix) + 1 if self.prefix else 0
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
            for item in page.get("Contents", ()):
                rel = item["Key"][cut:]
                if is_safe_name(rel):
                    yield rel, item["LastModified"]

    def move(self, rel: str, new_rel: str) -> None:
        """Give an object another key: a copy, then the old key deleted (S3 has no rename)."""
        if not (is_safe_name(rel) and is_safe_name(new_rel)):
            raise ValidationError("path", "Not a name inside the store")
        self.client.copy_object(Bucket=self.bucket, Key=self.key(new_rel),
                                CopySource={"Bucket": self.bucket, "Key": self.key(rel)})
        self.client.delete_object(Bucket=self.bucket, Key=self.key(rel))

    def check(self) -> None:
        """Raise when the bucket cannot be reached with these settings (a start-up check)."""
        self.client.head_bucket(Bucket=self.bucket)

    def _size(self, rel: str) -> int | None:
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=self.key(rel))["ContentLength"])
        except self.client.exceptions.ClientError as exc:
            if _missing(exc):
                return None
            raise

    def _put(self, rel: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.key(rel), Body=data, ContentType=content_type)
