"""Seal and unseal destination secrets (webhook URLs, signing secrets) with a key from SECRET_KEY.

Rotating SECRET_KEY makes sealed values unreadable: destinations must then be entered again
(`unseal` raises `SealError`, and the delivery is logged as failed without the value).
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

_CONTEXT = b"smarketing.alerts.destinations\x00"


class SealError(ValueError):
    """A sealed value that this SECRET_KEY cannot open."""


def _fernet() -> Fernet:
    digest = hashlib.sha256(_CONTEXT + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def unseal(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        raise SealError("the stored destination cannot be decrypted (was SECRET_KEY changed?)") from None


def target_hint(*, kind: str, target: str) -> str:
    """What may be shown of a target: an address's domain, a URL's host and last 4 characters."""
    if kind == "email":
        local, _, domain = target.partition("@")
        return f"{local[:1]}…@{domain}"
    host = urlsplit(target).hostname or "?"
    return f"{host}/…{target[-4:]}" if len(target) > 12 else f"{host}/…"
