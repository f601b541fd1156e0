"""A real S3-compatible server for the tests: moto's standalone server (``moto_server``) on
loopback, started once per test session, and a fresh bucket for each test."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from aiobotocore.session import get_session

from storage.files.s3 import S3Store

ACCESS_KEY, SECRET = "test-access-key", "test-secret"
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(10)


async def new_bucket(endpoint: str) -> str:
    bucket = f"bb-{uuid.uuid4().hex[:12]}"
    async with get_session().create_client(
            "s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET) as client:
        await client.create_bucket(Bucket=bucket)
    return bucket


async def s3_store(endpoint: str) -> S3Store:
    return S3Store(endpoint=endpoint, bucket=await new_bucket(endpoint), region=REGION,
                   access_key=ACCESS_KEY, secret=SECRET)


async def object_keys(store: S3Store) -> list[str]:
    client = await store.client()
    keys: list[str] = []
    async for page in client.get_paginator("list_objects_v2").paginate(Bucket=store.bucket):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return sorted(keys)


@pytest.fixture
async def s3(s3_endpoint: str) -> AsyncIterator[S3Store]:
    """An S3 store on a fresh bucket of the loopback server."""
    store = await s3_store(s3_endpoint)
    yield store
    await store.close()
