"""Downloads (IT-5), served to the owner only (anyone else, or no session: 404, as for a missing one):
`/builds/{id}/zip` — the files of a version as a zip; `/projects/{id}/export.md` — the project's documents as one
Markdown file (brief, plan, change requests, docs, readiness report)."""

from __future__ import annotations

import uuid

from fastapi import Response
from fastapi.responses import PlainTextResponse
from nicegui import app

from core import accounts
from core.builds import jobs, versions
from core.errors import CofounderError
from core.journey.bundle import project_bundle
from core.journey.markdown import ascii_stem, content_disposition, file_stem
from core.models import Project
from core.services import Services

NOT_FOUND = 'Not found'


def _attachment(data: bytes, title: str, suffix: str, media_type: str) -> Response:
    """The file named after the title in any script (filename*), with an ASCII name for old clients."""
    disposition = content_disposition(file_stem(title), suffix, fallback=ascii_stem(title))
    return Response(data, media_type=media_type, headers={'Content-Disposition': disposition,
                                                          'Cache-Control': 'private, no-store'})  # fmt: skip


def register(svc: Services) -> None:
    @app.get('/builds/{job_id}/zip', include_in_schema=False)
    async def version_zip(job_id: str) -> Response:
        try:
            async with svc.sessions() as session:
                user = await accounts.active_user(session, app.storage.user.get('user_id'))
                if user is None:
                    return PlainTextResponse(NOT_FOUND, status_code=404)
                job = await jobs.get_build(session, user=user, job_id=job_id)
                project = await session.get(Project, job.project_id)
                data = await versions.zip_of_version(session, svc.blobs, user=user, job_id=job.id)
        except CofounderError:
            return PlainTextResponse(NOT_FOUND, status_code=404)
        return _attachment(data, project.title if project else 'app', f'-{job.version_label}.zip', 'application/zip')

    @app.get('/projects/{project_id}/export.md', include_in_schema=False)
    async def project_markdown(project_id: str) -> Response:
        try:
            pid = uuid.UUID(project_id)
        except ValueError:
            return PlainTextResponse(NOT_FOUND, status_code=404)
        try:
            async with svc.sessions() as session:
                user = await accounts.active_user(session, app.storage.user.get('user_id'))
                if user is None:
                    return PlainTextResponse(NOT_FOUND, status_code=404)
                project = await session.get(Project, pid)
                text = await project_bundle(session, svc.events, user=user, project_id=pid)
        except CofounderError:
            return PlainTextResponse(NOT_FOUND, status_code=404)
        return _attachment(text.encode(), project.title if project else 'project', '-everything.md',
                           'text/markdown; charset=utf-8')  # fmt: skip
