"""WXBizMsgCrypt against WeCom's published sample (weworkapi_python's callback/Sample.py), and
what must be refused: a wrong signature, broken padding, another corp's message."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.adapters.wecom.crypto import CryptoError, MsgCrypt, signature
from tests.wecomapi import AES_KEY, CORP_ID, TOKEN

VERIFY = ("012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "1476416373", "47744683",
          "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==")
MESSAGE = ("0c3914025cb4b4d68103f6bfc8db550f79dcf48e", "1476422779", "1597212914",
           "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzB"
           "hzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3J"
           "WcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQ"
           "HE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYu"
           "PDGOCI8jmnKiypE+")
SAMPLE_XML = ("<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName>"
              "<CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content>"
              "<MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>")


@pytest.fixture
def crypt() -> MsgCrypt:
    return MsgCrypt(TOKEN, AES_KEY, CORP_ID)


def test_the_sample_url_check_and_message_decrypt(crypt: MsgCrypt) -> None:
    assert crypt.verified(*VERIFY) == "1288432023552776189"
    assert crypt.verified(*MESSAGE) == SAMPLE_XML


def test_the_signature_is_sha1_of_the_sorted_parts() -> None:
    assert signature(TOKEN, *MESSAGE[1:]) == MESSAGE[0]


def test_encrypt_then_decrypt(crypt: MsgCrypt) -> None:
    for text in ("", "你好", "x" * 31, "y" * 32, "<xml>" + "述学" * 500 + "</xml>"):
        ciphertext = crypt.encrypt(text)
        assert len(base64.b64decode(ciphertext)) % 32 == 0
        assert crypt.verified(signature(TOKEN, "1", "2", ciphertext), "1", "2", ciphertext) == text
    assert crypt.encrypt("a", random_prefix=b"\0" * 16) == crypt.encrypt("a", random_prefix=b"\0" * 16)


def test_a_wrong_signature_is_refused(crypt: MsgCrypt) -> None:
    sig, timestamp, nonce, ciphertext = MESSAGE
    for bad in (sig[:-1] + "0", "", "不是签名"):
        with pytest.raises(CryptoError, match="signature"):
            crypt.verified(bad, timestamp, nonce, ciphertext)
    with pytest.raises(CryptoError, match="signature"):
        crypt.verified(sig, str(int(timestamp) + 1), nonce, ciphertext)


def test_another_corp_is_refused() -> None:
    other = MsgCrypt(TOKEN, AES_KEY, "ww0000000000000000")
    with pytest.raises(CryptoError, match="receiveid"):
        other.verified(*MESSAGE)
    with pytest.raises(CryptoError, match="receiveid"):
        MsgCrypt(TOKEN, AES_KEY, CORP_ID).decrypt(other.encrypt("hi"))


def _raw_encrypt(plain: bytes) -> str:
    key = base64.b64decode(AES_KEY + "=")
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


@pytest.mark.parametrize("tail", [
    b"\x00" * 32,  # padding byte 0
    b"\x21" * 32,  # more than a 32-byte block
    b"\x05" * 31 + b"\x04",  # inconsistent padding bytes
    b"\x10" * 15 + b"\x0f\x10" * 8 + b"\x10",  # a broken run
])
def test_broken_padding_is_refused(crypt: MsgCrypt, tail: bytes) -> None:
    with pytest.raises(CryptoError, match="padding"):
        crypt.decrypt(_raw_encrypt(b"\x00" * 32 + tail[:32]))


def test_garbage_is_refused(crypt: MsgCrypt) -> None:
    for ciphertext in ("", "***", base64.b64encode(b"short").decode(),
                       _raw_encrypt(b"\x00" * 16 + b"\x00\x00\xff\xff" + b"\x0c" * 12)):
        with pytest.raises(CryptoError):
            crypt.decrypt(ciphertext)


def test_a_bad_encoding_aes_key_is_a_setting_error() -> None:
    for key in ("short", AES_KEY + "A", "!" * 43):
        with pytest.raises(ValueError):
            MsgCrypt(TOKEN, key, CORP_ID)
