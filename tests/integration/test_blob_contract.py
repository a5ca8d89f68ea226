"""One contract for every BlobStore: the filesystem store and S3 (moto's server on a local port)."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from core.adapters.blobs_fs import FileBlobStore
from core.adapters.blobs_s3 import CACHE_CONTROL, S3BlobStore

CREDENTIALS = {'access_key': 'testing', 'secret_key': 'testing'}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='module')
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address='127.0.0.1', port=port, verbose=False)
    server.start()
    yield f'http://127.0.0.1:{port}'
    server.stop()


@pytest.fixture(scope='module')
def s3_admin(moto_endpoint: str):  # type: ignore[no-untyped-def]
    """A plain boto3 client to create buckets and inspect objects behind the store's back."""
    return boto3.client(
        's3',
        endpoint_url=moto_endpoint,
        region_name='us-east-1',
        aws_access_key_id='testing',
        aws_secret_access_key='testing',
    )


@dataclass
class StoreCase:
    store: FileBlobStore | S3BlobStore
    gap: float  # pause between writes that must get distinct modification times (S3: 1 s resolution)


@pytest.fixture(params=['fs', 's3'])
async def case(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreCase]:
    if request.param == 'fs':
        yield StoreCase(FileBlobStore(tmp_path / 'blobs'), gap=0.02)
        return
    endpoint = request.getfixturevalue('moto_endpoint')
    bucket = f'cf-test-{uuid.uuid4().hex[:10]}'
    request.getfixturevalue('s3_admin').create_bucket(Bucket=bucket)
    yield StoreCase(S3BlobStore(bucket, endpoint_url=endpoint, **CREDENTIALS), gap=1.05)


async def put_spaced(case: StoreCase, keys: list[str]) -> None:
    for i, key in enumerate(keys):
        if i:
            await asyncio.sleep(case.gap)
        await case.store.put(key, key.encode(), content_type='text/plain')


async def test_put_get_roundtrip_and_exists(case: StoreCase) -> None:
    store = case.store
    key = 'projects/p1/screenshots/j1/a.png'
    assert not await store.exists(key)
    url = await store.put(key, b'hello', content_type='image/png')
    assert url == store.url(key)
    assert await store.get(key) == b'hello'
    assert await store.exists(key)


async def test_missing_key_raises_key_error(case: StoreCase) -> None:
    with pytest.raises(KeyError):
        await case.store.get('projects/p1/nothing-here.png')
    with pytest.raises(KeyError):
        await case.store.open('projects/p1/nothing-here.png')


async def test_list_is_oldest_first_not_alphabetical(case: StoreCase) -> None:
    await put_spaced(case, ['projects/p1/s/zeta', 'projects/p1/s/alpha'])
    await case.store.put('projects/p2/s/other', b'x', content_type='text/plain')
    assert await case.store.list('projects/p1/') == ['projects/p1/s/zeta', 'projects/p1/s/alpha']
    assert await case.store.list('projects/p1/s/al') == ['projects/p1/s/alpha']
    assert await case.store.list('projects/none/') == []


async def test_delete(case: StoreCase) -> None:
    store = case.store
    await store.put('a/b/c.txt', b'1', content_type='text/plain')
    await store.put('a/b/d.txt', b'2', content_type='text/plain')
    await store.delete('a/b/c.txt')
    await store.delete('a/b/never-existed.txt')  # deleting a missing key is not an error
    assert not await store.exists('a/b/c.txt')
    assert await store.list('a/') == ['a/b/d.txt']


async def test_delete_prefix_keeps_the_newest(case: StoreCase) -> None:
    store = case.store
    await put_spaced(case, ['snap/c', 'snap/b', 'snap/a'])
    await store.put('other/x', b'x', content_type='text/plain')
    assert await store.delete_prefix('snap/', keep_newest=2) == 1
    assert await store.list('snap/') == ['snap/b', 'snap/a']
    assert await store.delete_prefix('snap/', keep_newest=5) == 0
    assert await store.delete_prefix('snap/') == 2
    assert await store.list('snap/') == []
    assert await store.list('other/') == ['other/x']


@pytest.mark.parametrize('bad', ['', '/abs/key', 'a/../b', '../up', 'a//b', 'a/', './a', 'a/./b', 'back\\slash'])
async def test_invalid_keys_are_refused(case: StoreCase, bad: str) -> None:
    store = case.store
    with pytest.raises(ValueError, match='invalid blob key'):
        await store.put(bad, b'x', content_type='text/plain')
    with pytest.raises(ValueError, match='invalid blob key'):
        await store.get(bad)
    with pytest.raises(ValueError, match='invalid blob key'):
        store.url(bad)


async def test_url_shape(case: StoreCase) -> None:
    assert case.store.url('projects/p/screenshots/j/x.png') == '/blobs/projects/p/screenshots/j/x.png'


def test_urls_with_custom_prefix_and_public_url(tmp_path: Path) -> None:
    assert FileBlobStore(tmp_path, url_prefix='/files/').url('a/b.png') == '/files/a/b.png'
    cdn = S3BlobStore('bucket', public_url='https://cdn.example.com/', **CREDENTIALS)
    assert cdn.url('a/b.png') == 'https://cdn.example.com/a/b.png'
    private = S3BlobStore('bucket', endpoint_url='http://127.0.0.1:1', **CREDENTIALS)
    assert private.url('a/b.png') == '/blobs/a/b.png'


async def test_content_type_is_preserved(case: StoreCase) -> None:
    await case.store.put('k/shot.png', b'\x89PNG', content_type='image/png')
    await case.store.put('k/weird.bin', b'x', content_type='application/x-cofounder-test')
    assert await case.store.open('k/shot.png') == (b'\x89PNG', 'image/png')
    assert (await case.store.open('k/weird.bin'))[1] == 'application/x-cofounder-test'


async def test_binary_payload_intact(case: StoreCase) -> None:
    payload = os.urandom(2 * 1024 * 1024)
    await case.store.put('big/random.bin', payload, content_type='application/octet-stream')
    assert await case.store.get('big/random.bin') == payload


async def test_overwrite_replaces_whole_object(case: StoreCase) -> None:
    await case.store.put('k/v', b'first version, longer', content_type='text/plain')
    await case.store.put('k/v', b'second', content_type='text/markdown')
    assert await case.store.open('k/v') == (b'second', 'text/markdown')
    assert await case.store.list('k/') == ['k/v']


async def test_s3_objects_carry_immutable_cache_header(moto_endpoint: str, s3_admin) -> None:  # type: ignore[no-untyped-def]
    bucket = f'cf-test-{uuid.uuid4().hex[:10]}'
    s3 = s3_admin
    s3.create_bucket(Bucket=bucket)
    store = S3BlobStore(bucket, endpoint_url=moto_endpoint, **CREDENTIALS)
    await store.put('a/shot.png', b'png', content_type='image/png')
    head = s3.head_object(Bucket=bucket, Key='a/shot.png')
    assert head['CacheControl'] == CACHE_CONTROL
    assert head['ContentType'] == 'image/png'


async def test_fs_store_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / 'blobs')
    await asyncio.gather(*(store.put(f'p/{i}.bin', os.urandom(1000), content_type='x/y') for i in range(20)))
    assert len(await store.list('p/')) == 20
    assert list((tmp_path / 'blobs' / 'tmp').iterdir()) == []
