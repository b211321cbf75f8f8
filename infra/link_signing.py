"""Signing action links: the token in an emailed link is an opaque id and its HMAC, nothing else.

The key is SEND_LINK_KEY (infra.settings). The token says nothing of the case, the pupil or the reader:
all of that stays in the action link's row, found by the id once the signature checks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from infra.settings import get_settings

SIGNATURE_CHARS = 32  # 192 bits of the HMAC-SHA256, base64url


def new_link_id() -> str:
    """A fresh opaque id: 128 random bits, base64url (22 characters)."""
    return secrets.token_urlsafe(16)


def _mac(purpose: bytes, link_id: str) -> str:
    digest = hmac.new(get_settings().link_key_bytes, purpose + link_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:SIGNATURE_CHARS]


def token_for(link_id: str) -> str:
    """The link's token, as it goes in the URL: <id>.<signature>."""
    return f"{link_id}.{_mac(b'link:', link_id)}"


def link_id_of(token: str) -> tuple[str, bool]:
    """The id a token names, and whether its signature is right (an id alone proves nothing)."""
    link_id, _, signature = token.partition(".")
    if not link_id or len(link_id) > 64:
        return "", False
    return link_id, hmac.compare_digest(_mac(b"link:", link_id), signature)


def form_token(link_id: str) -> str:
    """The token the link's page puts in its form: a post must carry the one of the link it is for."""
    return _mac(b"form:", link_id)


def form_ok(link_id: str, submitted: str) -> bool:
    return hmac.compare_digest(form_token(link_id), submitted or "")
