"""Projects, builds, documents and files (OPS-4): each route calls the core function the pages call, for the
founder the token acts for, so the API shows and allows exactly what the founder's pages do. Another founder's
ids, like unknown ones, answer 404.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, and `Founder` is local.
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import col, select

from core.builds import jobs, versions
from core.errors import CofounderError, Conflict, Forbidden, InvalidInput, NotFound
from core.journey.brief import latest
from core.journey.bundle import project_bundle
from core.journey.markdown import artifacts_markdown
from core.journey.projects import list_projects, load_project
from core.models import Artifact, User
from core.observability import bind_log_context
from ui.api.auth import ApiContext, api_user
from ui.api.schemas import ArtifactOut, BuildOut, Problem, ProjectOut
from ui.components.docs_panel import slug

MARKDOWN = 'text/markdown; charset=utf-8'
ERRORS = {
    401: {'model': Problem, 'description': 'No valid token'},
    403: {'model': Problem},
    404: {'model': Problem, 'description': 'Missing, or not yours'},
    429: {'model': Problem, 'description': 'Rate limited; see Retry-After'},
}
_documented_bearer = HTTPBearer(auto_error=False, description='An API token from your account page')


@contextmanager
def domain_errors() -> Iterator[None]:
    """The founder-readable message of a refused action, with its HTTP status."""
    try:
        yield
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    except Forbidden as error:
        raise HTTPException(403, str(error)) from None
    except Conflict as error:
        raise HTTPException(409, str(error)) from None
    except InvalidInput as error:
        raise HTTPException(422, str(error)) from None
    except CofounderError as error:
        raise HTTPException(400, str(error)) from None


def project_id_of(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise HTTPException(404, str(NotFound('That project'))) from None


def attachment(data: bytes, filename: str, media_type: str) -> Response:
    disposition = f'attachment; filename="{filename}"; filename*=UTF-8\'\'{quote(filename)}'
    return Response(
        data, media_type=media_type, headers={'Content-Disposition': disposition, 'Cache-Control': 'private, no-store'}
    )


def add_routes(router: APIRouter, ctx: ApiContext) -> None:
    svc = ctx.svc

    async def founder(
        request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_documented_bearer)]
    ) -> User:
        return await api_user(ctx, request)

    Founder = Annotated[User, Depends(founder)]

    @router.get('/projects', response_model=list[ProjectOut], responses=ERRORS, tags=['projects'])
    async def get_projects(user: Founder) -> list[ProjectOut]:
        """Your projects, most recently changed first."""
        async with svc.sessions() as session:
            return [ProjectOut.of(p) for p in await list_projects(session, user=user)]

    @router.get('/projects/{project_id}', response_model=ProjectOut, responses=ERRORS, tags=['projects'])
    async def get_project(project_id: str, user: Founder) -> ProjectOut:
        async with svc.sessions() as session:
            with domain_errors():
                return ProjectOut.of(await load_project(session, user=user, project_id=project_id_of(project_id)))

    @router.get('/projects/{project_id}/builds', response_model=list[BuildOut], responses=ERRORS, tags=['builds'])
    async def get_builds(project_id: str, user: Founder) -> list[BuildOut]:
        """The project's builds, newest first."""
        async with svc.sessions() as session:
            with domain_errors():
                return [BuildOut.of(job) for job in await jobs.list_builds(session, user=user, project_id=project_id)]

    @router.post(
        '/projects/{project_id}/builds',
        response_model=BuildOut,
        status_code=201,
        tags=['builds'],
        responses={**ERRORS, 409: {'model': Problem, 'description': 'Cannot build now (the reason)'}},
    )
    async def start_build(project_id: str, user: Founder) -> BuildOut:
        """Queue a build of the project with its selected plan, as the Start build button does."""
        async with svc.sessions() as session:
            with domain_errors():
                job = await jobs.start_build(
                    session, user=user, project_id=project_id, queue=svc.queue, events=svc.events
                )
            bind_log_context(build_id=job.id)
            return BuildOut.of(job, await jobs.queue_position(session, job=job))

    @router.get('/builds/{build_id}', response_model=BuildOut, responses=ERRORS, tags=['builds'])
    async def get_build(build_id: str, user: Founder) -> BuildOut:
        """The build's state, version, queue position and spend."""
        async with svc.sessions() as session:
            with domain_errors():
                job = await jobs.get_build(session, user=user, job_id=build_id)
            return BuildOut.of(job, await jobs.queue_position(session, job=job))

    @router.post(
        '/builds/{build_id}/cancel',
        response_model=BuildOut,
        tags=['builds'],
        responses={**ERRORS, 409: {'model': Problem, 'description': 'Already finished'}},
    )
    async def cancel_build(build_id: str, user: Founder) -> BuildOut:
        """Cancel the build, as its Cancel button does: at once unless running, else its runner stops it."""
        async with svc.sessions() as session:
            with domain_errors():
                job = await jobs.request_cancel(session, user=user, job_id=build_id, events=svc.events)
            return BuildOut.of(job)

    @router.get(
        '/builds/{build_id}/zip',
        responses={**ERRORS, 200: {'content': {'application/zip': {}}}},
        response_class=Response,
        tags=['files'],
    )
    async def get_zip(build_id: str, user: Founder) -> Response:
        """The files of a READY build (a version) as a zip."""
        async with svc.sessions() as session:
            with domain_errors():
                job = await jobs.get_build(session, user=user, job_id=build_id)
                data = await versions.zip_of_version(session, svc.blobs, user=user, job_id=job.id)
                project = await load_project(session, user=user, project_id=job.project_id)
        return attachment(data, f'{slug(project.title)}-{job.version_label}.zip', 'application/zip')

    @router.get(
        '/projects/{project_id}/docs.md',
        responses={**ERRORS, 200: {'content': {MARKDOWN: {}}}},
        response_class=Response,
        tags=['documents'],
    )
    async def get_docs(project_id: str, user: Founder) -> Response:
        """Everything as one Markdown document: brief, plan, change requests, the app's docs, readiness."""
        async with svc.sessions() as session:
            with domain_errors():
                text = await project_bundle(session, svc.events, user=user, project_id=project_id_of(project_id))
        return Response(text, media_type=MARKDOWN, headers={'Cache-Control': 'private, no-store'})

    @router.get(
        '/projects/{project_id}/artifacts', response_model=list[ArtifactOut], responses=ERRORS, tags=['documents']
    )
    async def get_artifacts(project_id: str, user: Founder) -> list[ArtifactOut]:
        """The newest version of each of the project's documents (brief, scope, change requests, readiness)."""
        async with svc.sessions() as session:
            with domain_errors():
                project = await load_project(session, user=user, project_id=project_id_of(project_id))
            rows = await session.exec(
                select(Artifact).where(Artifact.project_id == project.id).order_by(col(Artifact.version).desc())
            )
            newest: dict[str, Artifact] = {}
            for art in rows.all():
                newest.setdefault(art.kind, art)
        return [ArtifactOut.of(art) for art in sorted(newest.values(), key=lambda a: a.kind)]

    @router.get(
        '/projects/{project_id}/artifacts/{kind}.md',
        responses={**ERRORS, 200: {'content': {MARKDOWN: {}}}},
        response_class=Response,
        tags=['documents'],
    )
    async def get_artifact(project_id: str, kind: str, user: Founder) -> Response:
        """The newest version of one document as Markdown (the founder's text escaped, never HTML)."""
        async with svc.sessions() as session:
            with domain_errors():
                project = await load_project(session, user=user, project_id=project_id_of(project_id))
                art = await latest(session, project_id=project.id, kind=kind)
                if art is None:
                    raise NotFound('That document')
        text = artifacts_markdown([art], title=project.title)
        return Response(text, media_type=MARKDOWN, headers={'Cache-Control': 'private, no-store'})
