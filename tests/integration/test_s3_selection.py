"""S3_BUCKET selects S3 blob storage (moto's server standing in for S3), and what builds store lands there:
a sandbox's snapshot goes in and restores into a fresh sandbox, through the services the app builds."""

from __future__ import annotations

import uuid
from pathlib import Path

from pydantic import SecretStr

from core.adapters.blobs_fs import FileBlobStore
from core.adapters.blobs_s3 import S3BlobStore
from core.builds.snapshots import restore_latest, save_snapshot
from core.config import Settings
from core.models import Project
from core.services import build_services
from tests.integration.test_blob_contract import moto_endpoint, s3_admin  # noqa: F401  (fixtures)
from tests.integration.test_queue import arrange
from tests.integration.test_sandbox_local import copy_sample_app


def s3_settings(settings: Settings, endpoint: str, bucket: str) -> Settings:
    return settings.model_copy(update={'S3_BUCKET': bucket, 'S3_ENDPOINT_URL': endpoint,
                                       'AWS_ACCESS_KEY_ID': SecretStr('testing'),
                                       'AWS_SECRET_ACCESS_KEY': SecretStr('testing')})  # fmt: skip


def test_the_bucket_setting_selects_s3(settings: Settings, moto_endpoint: str) -> None:  # noqa: F811
    assert isinstance(build_services(settings).blobs, FileBlobStore)
    services = build_services(s3_settings(settings, moto_endpoint, 'chosen'))
    assert isinstance(services.blobs, S3BlobStore) and services.blobs.bucket == 'chosen'
    assert services.health.parts.storage_kind == 's3'  # /readyz names it


async def test_a_snapshot_goes_to_s3_and_comes_back(  # type: ignore[no-untyped-def]
    settings: Settings,
    moto_endpoint: str,  # noqa: F811
    s3_admin,  # noqa: F811
    session_factory,
    tmp_path: Path,
) -> None:
    bucket = f'cf-test-{uuid.uuid4().hex[:10]}'
    s3_admin.create_bucket(Bucket=bucket)
    services = build_services(s3_settings(settings, moto_endpoint, bucket))
    user = (await arrange(session_factory, {'s3': 'bootstrapper'}))['s3']
    async with session_factory() as session:
        project = Project(owner_id=user.id, title='p', idea='an idea long enough')
        session.add(project)
        await session.commit()
    box = await services.sandboxes.create(key=f's3-{uuid.uuid4().hex[:8]}')
    await copy_sample_app(box)
    saved = await save_snapshot(sandbox=box, blobs=services.blobs, sessions=session_factory, project_id=project.id,
                                owner_id=user.id, job_id=None, reason='test')  # fmt: skip
    assert saved is not None
    stored = s3_admin.list_objects_v2(Bucket=bucket)['Contents']
    assert [o['Key'] for o in stored] == [saved.blob_key]
    fresh = await services.sandboxes.create(key=f's3-{uuid.uuid4().hex[:8]}')
    assert await restore_latest(sandbox=fresh, blobs=services.blobs, sessions=session_factory, project_id=project.id)
    assert await fresh.list_files() == ['app.py', 'index.html', 'static/style.css']
    for sandbox in (box, fresh):
        await sandbox.destroy()
    await services.close()
