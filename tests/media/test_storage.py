"""The two storages behind one interface, and /media serving their files with a year-long
cache. S3 runs against moto's server, reached over HTTP by boto3 as a real bucket would be."""

from __future__ import annotations

import pytest

from app.media.storage import LocalStorage, S3Storage, storage
from tests.media.conftest import BUCKET

KEY = "ab/" + "ab" * 16 + "-480.webp"
JPEG_KEY = "ab/" + "ab" * 16 + "-480.jpg"
IMMUTABLE = "public, max-age=31536000, immutable"


def roundtrip(store) -> None:
    assert store.get(KEY) is None
    store.put(KEY, b"RIFF-webp-bytes")
    stored = store.get(KEY)
    assert b"".join(stored.chunks) == b"RIFF-webp-bytes"
    assert stored.length == len(b"RIFF-webp-bytes")
    assert stored.content_type == "image/webp"
    store.delete(KEY)
    assert store.get(KEY) is None
    store.delete(KEY)  # deleting what is gone is fine


def test_local_storage(tmp_path):
    roundtrip(LocalStorage(tmp_path))
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_s3_storage(app, s3_settings):
    store = storage(app)
    assert isinstance(store, S3Storage)
    roundtrip(store)
    store.put(JPEG_KEY, b"jpeg")
    head = s3_settings.head_object(Bucket=BUCKET, Key="test/" + JPEG_KEY)
    assert head["ContentType"] == "image/jpeg"
    assert head["CacheControl"] == IMMUTABLE


@pytest.mark.parametrize("key", ["../../etc/passwd", "ab/cd.webp", "ab/" + "a" * 32 + "-480.png"])
def test_keys_are_checked(tmp_path, key):
    with pytest.raises(ValueError):
        LocalStorage(tmp_path).put(key, b"x")


def test_media_route_serves_local_files_with_long_cache(client, media):
    media.put(KEY, b"local-bytes")
    response = client.get(f"/media/{KEY}")
    assert response.status_code == 200
    assert response.data == b"local-bytes"
    assert response.mimetype == "image/webp"
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert "Set-Cookie" not in response.headers
    again = client.get(f"/media/{KEY}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["Cache-Control"] == IMMUTABLE


def test_media_route_streams_from_s3(app, client, s3_settings):
    storage(app).put(JPEG_KEY, b"s3-bytes")
    response = client.get(f"/media/{JPEG_KEY}")
    assert response.status_code == 200
    assert response.data == b"s3-bytes"
    assert response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize("path", [f"/media/{KEY}", "/media/../config.py", "/media/ab/x.webp"])
def test_missing_or_malformed_keys_are_404(client, media, path):
    assert client.get(path).status_code == 404


def test_production_refuses_an_incomplete_media_setting():
    from config import problems

    base = {"SECRET_KEY": "k" * 64, "BASE_URL": "https://gonggan.example"}
    assert problems({**base, "MEDIA_STORAGE": "local"}) == []
    assert problems({**base, "MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": "photos"}) == []
    assert "MEDIA_S3_BUCKET is not set" in problems({**base, "MEDIA_STORAGE": "s3"})[0]
    assert "must be 'local' or 's3'" in problems({**base, "MEDIA_STORAGE": "ftp"})[0]
