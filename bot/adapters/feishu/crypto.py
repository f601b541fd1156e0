"""The HTTP callback's security: ``encrypt`` is base64(iv ‖ AES-256-CBC(PKCS#7(json))) keyed by
sha256(encrypt key), and ``X-Lark-Signature`` is sha256_hex(timestamp + nonce + encrypt key +
raw body)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16


class CryptoError(Exception):
    pass


def aes_key(encrypt_key: str) -> bytes:
    return hashlib.sha256(encrypt_key.encode()).digest()


def decrypt(encrypt_key: str, encrypted: str) -> bytes:
    try:
        data = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError) as error:
        raise CryptoError("encrypt is not base64") from error
    if len(data) < 2 * BLOCK or len(data) % BLOCK:
        raise CryptoError("encrypt has a bad length")
    decryptor = Cipher(algorithms.AES(aes_key(encrypt_key)), modes.CBC(data[:BLOCK])).decryptor()
    padded = decryptor.update(data[BLOCK:]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as error:
        raise CryptoError("bad padding: wrong encrypt key") from error


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def signature_matches(given: str, timestamp: str, nonce: str, encrypt_key: str,
                      body: bytes) -> bool:
    expected = signature(timestamp, nonce, encrypt_key, body)
    return hmac.compare_digest(given.lower().encode(), expected.encode())
