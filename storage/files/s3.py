"""The file store in S3-compatible object storage (MinIO, Ceph, a cloud's S3 API), shared by
every worker. Objects are named by the store key (``ab/cd/<sha256>``) in one bucket.

aiobotocore gives botocore's signing, retries and error codes on asyncio (over aiohttp), so an
upload never blocks the event loop; a thread around boto3 would hold a thread per transfer.
Checksums are asked for only where an operation requires them: botocore's newer default
(CRC32 on every upload) is refused by several S3-compatible servers. Integrity comes from
Content-MD5, which they all check.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any, Literal
from urllib.parse import quote

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from storage.files.errors import FileMissing
from storage.files.store import CHUNK_BYTES, FileStore, Spooled, check_key

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


class S3Store(FileStore):
    def __init__(self, *, endpoint: str | None, bucket: str, region: str, access_key: str,
                 secret: str, addressing: Literal["path", "virtual"] = "path") -> None:
        self.bucket = bucket
        self._client_options: dict[str, Any] = {
            "endpoint_url": endpoint, "region_name": region, "aws_access_key_id": access_key,
            "aws_secret_access_key": secret,
            "config": AioConfig(s3={"addressing_style": addressing}, signature_version="s3v4",
                                request_checksum_calculation="when_required",
                                response_checksum_validation="when_required",
                                retries={"max_attempts": 5, "mode": "standard"}),
        }
        self._stack = AsyncExitStack()
        self._client: Any = None
        self._lock = asyncio.Lock()

    async def client(self) -> Any:
        """The one S3 client of this store, made on first use."""
        async with self._lock:
            if self._client is None:
                self._client = await self._stack.enter_async_context(
                    get_session().create_client("s3", **self._client_options))
            return self._client

    async def open(self, key: str) -> AsyncIterator[bytes]:
        client = await self.client()
        try:
            response = await client.get_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as error:
            if _code(error) in _NOT_FOUND:
                raise FileMissing(key) from None
            raise
        async with response["Body"] as body:
            async for chunk in body.iter_chunks(CHUNK_BYTES):
                yield chunk

    async def exists(self, key: str) -> bool:
        client = await self.client()
        try:
            await client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as error:
            if _code(error) in _NOT_FOUND:
                return False
            raise
        return True

    async def delete(self, key: str) -> None:
        client = await self.client()
        await client.delete_object(Bucket=self.bucket, Key=check_key(key))

    async def link(self, key: str, file_name: str, seconds: int) -> str | None:
        client = await self.client()
        disposition = f"attachment; filename*=UTF-8''{quote(file_name)}"
        return str(await client.generate_presigned_url(
            "get_object", ExpiresIn=seconds, Params={
                "Bucket": self.bucket, "Key": check_key(key),
                "ResponseContentDisposition": disposition}))

    async def close(self) -> None:
        async with self._lock:
            await self._stack.aclose()
            self._client = None

    async def _save(self, key: str, spooled: Spooled, mime: str) -> None:
        client = await self.client()
        with spooled.path.open("rb") as body:
            await client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentLength=spooled.size,
                ContentType=mime, ContentMD5=base64.b64encode(spooled.md5).decode("ascii"),
                Metadata={"sha256": spooled.sha256})


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
