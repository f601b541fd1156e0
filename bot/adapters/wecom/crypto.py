"""WeCom's callback crypto (WXBizMsgCrypt), with the maintained ``cryptography`` package.

signature = SHA1 of the sorted token, timestamp, nonce and ciphertext (hex), checked in constant
time; AES-256-CBC with key = base64(EncodingAESKey + "="), IV = the key's first 16 bytes, PKCS#7
padding to 32-byte blocks; plaintext = 16 random bytes + 4-byte big-endian length + message +
receiveid, where receiveid is the corp id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


class CryptoError(Exception):
    """A callback that is not authentic or not well formed."""


def signature(token: str, timestamp: str, nonce: str, ciphertext: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, ciphertext])).encode()).hexdigest()


def _pad(data: bytes) -> bytes:
    amount = BLOCK - len(data) % BLOCK
    return data + bytes([amount]) * amount


def _unpad(data: bytes) -> bytes:
    if not data:
        raise CryptoError("empty plaintext")
    amount = data[-1]
    if not 1 <= amount <= BLOCK or amount > len(data) or data[-amount:] != bytes([amount]) * amount:
        raise CryptoError("bad padding")
    return data[:-amount]


class MsgCrypt:
    def __init__(self, token: str, encoding_aes_key: str, corp_id: str) -> None:
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error as error:
            raise ValueError("EncodingAESKey is not base64") from error
        if len(encoding_aes_key) != 43 or len(key) != 32:
            raise ValueError("EncodingAESKey must be 43 characters (32 bytes)")
        self.token, self.corp_id, self._key = token, corp_id, key

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def check(self, msg_signature: str, timestamp: str, nonce: str, ciphertext: str) -> None:
        expected = signature(self.token, timestamp, nonce, ciphertext)
        if not hmac.compare_digest(expected.encode(), msg_signature.lower().encode("utf-8", "replace")):
            raise CryptoError("bad signature")

    def decrypt(self, ciphertext: str) -> str:
        try:
            raw = base64.b64decode(ciphertext, validate=True)
        except binascii.Error as error:
            raise CryptoError("ciphertext is not base64") from error
        if not raw or len(raw) % 16:
            raise CryptoError("ciphertext is not whole AES blocks")
        decryptor = self._cipher().decryptor()
        plain = _unpad(decryptor.update(raw) + decryptor.finalize())
        if len(plain) < 20:
            raise CryptoError("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        message, receive_id = plain[20:20 + length], plain[20 + length:]
        if len(message) != length:
            raise CryptoError("bad length")
        if not hmac.compare_digest(receive_id, self.corp_id.encode()):
            raise CryptoError("wrong receiveid")
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CryptoError("message is not UTF-8") from error

    def verified(self, msg_signature: str, timestamp: str, nonce: str, ciphertext: str) -> str:
        """The plaintext of an authentic ciphertext; CryptoError otherwise."""
        self.check(msg_signature, timestamp, nonce, ciphertext)
        return self.decrypt(ciphertext)

    def encrypt(self, message: str, random_prefix: bytes | None = None) -> str:
        body = message.encode("utf-8")
        plain = (random_prefix or os.urandom(16)) + struct.pack(">I", len(body)) + body \
            + self.corp_id.encode()
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(_pad(plain)) + encryptor.finalize()).decode()
