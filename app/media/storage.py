"""Where picture files live, behind one small interface: `put`, `get`, `delete`.

- `LocalStorage` (MEDIA_STORAGE=local, the default): files under MEDIA_ROOT. One server only,
  or a folder every server mounts.
- `S3Storage` (MEDIA_STORAGE=s3): a bucket of any S3-compatible object store (AWS S3, MinIO,
  Ceph, Cloudflare R2, …) through boto3, so several app servers see the same files.

Keys are content-addressed (app.media.images.file_key): a key's bytes never change, which is
what lets the pages serve them with a year-long, immutable cache.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from botocore.exceptions import ClientError
from flask import Flask, current_app

KEY_PATTERN = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}-[0-9]{1,5}\.(webp|jpg)$")
# Private files (documents organisations send with their application; verification evidence,
# app.media.evidence): stored beside the pictures but never served by the public /media/ route,
# which accepts only `valid_key`, and never cached.
PRIVATE_KEY_PATTERN = re.compile(
    r"^(private/[0-9a-f]{2}/[0-9a-f]{32}\.(pdf|png|jpg)|evidence/[0-9a-f]{32}\.(pdf|jpg))$"
)
CONTENT_TYPES = {"webp": "image/webp", "jpg": "image/jpeg", "png": "image/png",
                 "pdf": "application/pdf"}
CHUNK = 64 * 1024
# Sent with every file (and stored on S3 objects): a key's bytes never change.
CACHE_CONTROL = "public, max-age=31536000, immutable"


def valid_key(key: str) -> bool:
    """A public picture's key (what the /media/ route serves)."""
    return bool(KEY_PATTERN.match(key))


def valid_private_key(key: str) -> bool:
    return bool(PRIVATE_KEY_PATTERN.match(key))


def storable_key(key: str) -> bool:
    return valid_key(key) or valid_private_key(key)


def content_type(key: str) -> str:
    return CONTENT_TYPES[key.rsplit(".", 1)[-1]]


@dataclass
class StoredFile:
    """An open stored file: `chunks` yields its bytes once."""

    chunks: Iterator[bytes]
    length: int | None
    content_type: str


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> StoredFile | None: ...

    def delete(self, key: str) -> None: ...


class LocalStorage:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not storable_key(key):
            raise ValueError(f"not a media key: {key!r}")
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside then renamed, so a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> StoredFile | None:
        path = self._path(key)
        try:
            f = path.open("rb")
        except FileNotFoundError:
            return None

        def chunks() -> Iterator[bytes]:
            with f:
                while block := f.read(CHUNK):
                    yield block

        return StoredFile(chunks(), path.stat().st_size, content_type(key))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Storage:
    def __init__(self, client, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _object(self, key: str) -> str:
        if not storable_key(key):
            raise ValueError(f"not a media key: {key!r}")
        return self.prefix + key

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._object(key),
            Body=data,
            ContentType=content_type(key),
            CacheControl=CACHE_CONTROL if valid_key(key) else "private, no-store",
        )

    def get(self, key: str) -> StoredFile | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        body = answer["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        return StoredFile(chunks(), answer.get("ContentLength"), content_type(key))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._object(key))



def _s3_client(config):
    # boto3 loads its service models on import (a noticeable delay): only servers that use S3
    # pay for it.
    import boto3
    from botocore.config import Config as BotoConfig

    return boto3.client(
        "s3",
        endpoint_url=config.get("MEDIA_S3_ENDPOINT_URL") or None,
        region_name=config.get("MEDIA_S3_REGION") or None,
        aws_access_key_id=config.get("MEDIA_S3_ACCESS_KEY_ID") or None,
        aws_secret_access_key=config.get("MEDIA_S3_SECRET_ACCESS_KEY") or None,
        config=BotoConfig(
            connect_timeout=config.get("MEDIA_S3_TIMEOUT", 10),
            read_timeout=config.get("MEDIA_S3_TIMEOUT", 10),
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": config.get("MEDIA_S3_ADDRESSING_STYLE") or "auto"},
        ),
    )


_S3_SETTINGS = (
    "MEDIA_S3_BUCKET", "MEDIA_S3_PREFIX", "MEDIA_S3_ENDPOINT_URL", "MEDIA_S3_REGION",
    "MEDIA_S3_ACCESS_KEY_ID", "MEDIA_S3_SECRET_ACCESS_KEY", "MEDIA_S3_ADDRESSING_STYLE",
    "MEDIA_S3_TIMEOUT",
)


def storage(app: Flask | None = None) -> Storage:
    """The storage the configuration names. The S3 client is made once per set of settings
    (boto3 clients are thread-safe and costly to build); a local folder is cheap."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]  # Flask types the proxy as the app
    config = app.config
    kind = config.get("MEDIA_STORAGE", "local")
    if kind == "local":
        return LocalStorage(config["MEDIA_ROOT"])
    if kind != "s3":
        raise RuntimeError(f"MEDIA_STORAGE must be 'local' or 's3', not {kind!r}")
    settings = tuple(config.get(name) for name in _S3_SETTINGS)
    cached = app.extensions.get("media_s3")
    if cached is None or cached[0] != settings:
        cached = (settings, _s3_client(config))
        app.extensions["media_s3"] = cached
    return S3Storage(cached[1], config["MEDIA_S3_BUCKET"], config.get("MEDIA_S3_PREFIX") or "")
