"""Encryption at rest and blind indexes for personal data (ID and phone numbers).

One 32-byte master key, kept outside the database (environment or a file under var/), is
expanded with HKDF into an encryption key and a blind-index key. Ciphertexts carry the name of
their algorithm, so switching ``SHOUWANG_CIPHER`` leaves old rows readable. The blind index is a
keyed HMAC of the normalised value: equal values give equal indexes, so exact search and joins
(including DuckDB/Spark joins on department feeds) work without decrypting.
"""

from __future__ import annotations

import base64
import functools
import hmac as std_hmac
import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

CIPHERS = ("aes-256-gcm", "sm4-gcm")
BLIND_INDEXES = ("hmac-sha256", "hmac-sm3")
_NONCE_BYTES = 12
_TAG_BYTES = 16


class DecryptionError(Exception):
    """The ciphertext was altered, or was written under another key."""


def generate_key_file(path: Path) -> bytes:
    """Create a new random master key file readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(key).decode() + "\n")
    return key


@functools.cache
def _master_key() -> bytes:
    encoded = settings.SHOUWANG_DATA_KEY
    if not encoded:
        path = Path(settings.SHOUWANG_DATA_KEY_FILE)
        if not path.exists():
            try:
                return generate_key_file(path)
            except FileExistsError:  # another process made it first
                pass
        encoded = path.read_text().strip()
    key = base64.b64decode(encoded)
    if len(key) != 32:
        raise ImproperlyConfigured("SHOUWANG_DATA_KEY must be the base64 encoding of 32 bytes.")
    return key


def _derive(purpose: bytes, length: int) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=None, info=b"shouwang:" + purpose
    ).derive(_master_key())


@functools.cache
def _keys() -> dict[str, bytes]:
    return {
        "aes-256-gcm": _derive(b"aes-256-gcm", 32),
        "sm4-gcm": _derive(b"sm4-gcm", 16),
        "hmac-sha256": _derive(b"blind-index", 32),
        "hmac-sm3": _derive(b"blind-index-sm3", 32),
    }


def reset_key_cache() -> None:
    """For tests and key rotation tools: forget the cached keys."""
    _master_key.cache_clear()
    _keys.cache_clear()


def _cipher_name() -> str:
    name = settings.SHOUWANG_CIPHER
    if name not in CIPHERS:
        raise ImproperlyConfigured(f"SHOUWANG_CIPHER must be one of {CIPHERS}, not {name!r}.")
    return name


def encrypt(plaintext: str) -> str:
    """Encrypt text; the result is ``<algorithm>:<base64 nonce+ciphertext+tag>``."""
    name = _cipher_name()
    key = _keys()[name]
    nonce = os.urandom(_NONCE_BYTES)
    data = plaintext.encode()
    if name == "aes-256-gcm":
        sealed = AESGCM(key).encrypt(nonce, data, None)
    else:
        encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        sealed = encryptor.update(data) + encryptor.finalize() + encryptor.tag
    return f"{name}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str) -> str:
    name, _, payload = token.partition(":")
    if name not in CIPHERS:
        raise DecryptionError(f"unknown cipher {name!r}")
    raw = base64.b64decode(payload)
    nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    key = _keys()[name]
    try:
        if name == "aes-256-gcm":
            return AESGCM(key).decrypt(nonce, sealed, None).decode()
        body, tag = sealed[:-_TAG_BYTES], sealed[-_TAG_BYTES:]
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        return (decryptor.update(body) + decryptor.finalize()).decode()
    except Exception as exc:  # InvalidTag and friends: report one error type
        raise DecryptionError("ciphertext failed authentication") from exc


def blind_index(value: str) -> str:
    """Keyed HMAC (hex) of the normalised value, for exact lookup without decrypting."""
    name = settings.SHOUWANG_BLIND_INDEX
    if name not in BLIND_INDEXES:
        raise ImproperlyConfigured(
            f"SHOUWANG_BLIND_INDEX must be one of {BLIND_INDEXES}, not {name!r}."
        )
    normalised = value.strip().upper().encode()
    key = _keys()[name]
    if name == "hmac-sha256":
        return std_hmac.new(key, normalised, "sha256").hexdigest()
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(normalised)
    return mac.finalize().hex()


def mask_id_number(value: str) -> str:
    """``500156199001011234`` → ``500156********1234``: the address code and the last four."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """``13912345678`` → ``139****5678``."""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
