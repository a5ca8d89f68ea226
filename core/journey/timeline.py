"""The project timeline (J-8): every significant event, oldest first.

Recording only, so that every journey module can record without importing another; reading a project's
timeline checks ownership and is `core.journey.projects.list_timeline`.
"""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import TimelineEvent

# The kinds the journey, builds and change requests write. Readers show unknown kinds as is.
KINDS = (
    'idea.created',
    'onboarding.completed',
    'interview.completed',
    'brief.generated',
    'brief.edited',
    'gate.opened',
    'gate.decided',
    'plan.selected',
    'project.parked',
    'project.unparked',
    'build.started',
    'build.ready',
    'build.failed',
    'mvp.built',
    'change.requested',
    'project.shipped',
    'version.restored',
)


def record(
    session: AsyncSession,
    *,
    project_id: uuid.UUID,
    kind: str,
    title: str,
    detail: str = '',
    job_id: uuid.UUID | None = None,
) -> TimelineEvent:
    """Add an event to the session. It does not commit: it belongs to the caller's transaction."""
    event = TimelineEvent(project_id=project_id, kind=kind, title=title[:200], detail=detail, job_id=job_id)
    session.add(event)
    return event
