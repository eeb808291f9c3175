"""Encrypting what must be stored but never shown: owners' bank account numbers.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under SETTLEMENT_KEYS: a
comma-separated list of Fernet keys, the first one encrypting and all of them decrypting, so a
key is rotated by putting a new one first (and re-saving or re-sealing the accounts). Without
the setting the key is derived from SECRET_KEY (HKDF, labelled for this purpose only), so a
development install needs no set-up; production should set its own key, kept apart from the
database backups.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PURPOSE = b"gonggan settlement bank accounts v1"


class Unreadable(Exception):
    """The sealed text was made with a key that is no longer configured (or was altered)."""


def _derived(secret: str) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(key)


def _box() -> MultiFernet:
    configured = [k.strip() for k in (current_app.config.get("SETTLEMENT_KEYS") or "").split(",")
                  if k.strip()]
    keys = [k.encode() for k in configured] or [_derived(current_app.config["SECRET_KEY"])]
    return MultiFernet([Fernet(k) for k in keys])


def seal(text: str) -> str:
    return _box().encrypt(text.encode()).decode()


def unseal(token: str) -> str:
    try:
        return _box().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise Unreadable from exc
