"""The API's JSON shapes (OPS-4): what the OpenAPI schema documents and the routes answer (plain SQLModel
models, no tables: pydantic models by another name, within what ui/ imports)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from core.builds.states import stage_durations, stage_label
from core.models import Artifact, BuildJob, Project


class ProjectOut(SQLModel):
    id: uuid.UUID
    title: str
    idea: str = Field(description="The founder's idea, verbatim")
    stage: str
    parked: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, project: Project) -> ProjectOut:
        return cls(
            id=project.id,
            title=project.title,
            idea=project.idea,
            stage=project.stage,
            parked=project.parked,
            created_at=project.created_at,
            updated_at=project.updated_at,
        )


class BuildOut(SQLModel):
    id: uuid.UUID
    project_id: uuid.UUID
    kind: str = Field(description='initial | iteration | retry | restore')
    state: str = Field(
        description='QUEUED, STARTING, SCAFFOLD, CODE, DEPS, CHECKS, READY, FAILED, CANCELLED, '
        'SLEEPING, NEEDS_INPUT or BUDGET_EXCEEDED'
    )
    stage: str = Field(description="The state in the founder's words")
    version: str | None = None
    queue_position: int | None = Field(None, description='1-based, while QUEUED')
    last_seq: int = Field(description='The seq of the newest event (follow from here)')
    error: str = ''
    wake_at: datetime | None = None
    stage_seconds: dict[str, float] = {}
    input_tokens: int
    output_tokens: int
    cost_dollars: float
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: BuildJob, position: int | None = None) -> BuildOut:
        return cls(
            id=job.id,
            project_id=job.project_id,
            kind=job.kind,
            state=job.state,
            stage=stage_label(job.state),
            version=job.version_label,
            queue_position=position,
            last_seq=job.last_seq,
            error=job.error_summary,
            wake_at=job.wake_at,
            stage_seconds=stage_durations(job),
            input_tokens=job.input_tokens,
            output_tokens=job.output_tokens,
            cost_dollars=job.cost_microdollars / 1_000_000,
            queued_at=job.queued_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


class ArtifactOut(SQLModel):
    kind: str
    version: int
    source: str
    note: str
    created_at: datetime
    markdown_url: str

    @classmethod
    def of(cls, art: Artifact) -> ArtifactOut:
        return cls(
            kind=art.kind,
            version=art.version,
            source=art.source,
            note=art.note,
            created_at=art.created_at,
            markdown_url=f'/api/v1/projects/{art.project_id}/artifacts/{art.kind}.md',
        )


class EventOut(SQLModel):
    """One build event as the stream's `data:` line carries it (its `id:` is the seq)."""

    seq: int
    at: datetime
    type: str
    payload: dict[str, Any]


class Problem(SQLModel):
    detail: str
