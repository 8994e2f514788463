"""Feed tokens at rest: encrypted with Fernet (AES-128-CBC and HMAC-SHA256, from `cryptography`), under
INTEGRATION_BOT_SECRET_KEY. Several comma-separated keys make a MultiFernet: the first encrypts, every one
decrypts, so a key is rotated by putting a new one first (README "Host it for many practices")."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


def _keys(secret_key: str) -> list[str]:
    return [key.strip() for key in secret_key.split(",") if key.strip()]


def secret_key_problem(secret_key: str) -> str | None:
    """Why INTEGRATION_BOT_SECRET_KEY cannot be used, or None. Each key is 32 url-safe base64-encoded bytes,
    as `Fernet.generate_key()` makes (https://cryptography.io/en/latest/fernet/)."""
    keys = _keys(secret_key)
    if not keys:
        return "is empty"
    for number, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            return f"key {number} is not a Fernet key (make one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
    return None


class TokenCipher:
    """Encrypts and decrypts feed tokens. Raises ValueError for a key that is not a Fernet key."""

    def __init__(self, secret_key: str) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in _keys(secret_key)])

    def encrypt(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode()

    def decrypt(self, encrypted: str) -> str | None:
        """The token, or None when no key here decrypts it (a key was retired too early)."""
        try:
            return self._fernet.decrypt(encrypted.encode()).decode()
        except InvalidToken:
            return None

    def rotate(self, encrypted: str) -> str | None:
        """The same token encrypted under the first key (MultiFernet.rotate); None when no key decrypts it."""
        try:
            return self._fernet.rotate(encrypted.encode()).decode()
        except InvalidToken:
            return None


def last_four(token: str | None) -> str:
    """All that is ever shown of a stored token: `…abcd` (nothing for a token of four characters or fewer)."""
    if not token or len(token) <= 4:
        return ""
    return f"…{token[-4:]}"
