"""Encryption at rest for what a hand-off must keep: messages and the reply address.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under a key derived
from ``HANDOFF_KEY``: any random secret of 32+ bytes, so operators can make one
with ``openssl rand -hex 32`` like the other keys. A row copied out of the
database without the key reads as noise.

Example::

    sealer = Sealer(b"0123456789abcdef0123456789abcdef")
    token = sealer.seal("hola")
    sealer.open(token)        # "hola"
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class Sealer:
    """Seals and opens text with one key."""

    def __init__(self, secret: bytes) -> None:
        # Domain-separated from the pseudonym key even if an operator reused a secret.
        digest = hashlib.sha256(b"pana-handoff-v1:" + secret).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        """The text; raises ValueError when the token was sealed with another key."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise ValueError("sealed with another HANDOFF_KEY") from exc
