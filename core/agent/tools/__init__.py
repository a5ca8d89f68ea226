"""The agent's tools (AG-3) and their registry: name → Tool."""

from __future__ import annotations

from types import ModuleType

from core.agent.tools import (
    acceptance_check,
    bash,
    document,
    edit_file,
    glob,
    grep,
    narrate,
    phase,
    read_file,
    take_screenshot,
    write_file,
)
from core.agent.tools.base import Tool, ToolContext, ToolInputError, ToolOutcome
from core.ports import ToolSpec

_MODULES: tuple[ModuleType, ...] = (
    read_file,
    write_file,
    edit_file,
    bash,
    grep,
    glob,
    take_screenshot,
    narrate,
    document,
    phase,
    acceptance_check,
)

ToolRegistry = dict[str, Tool]


def default_tools() -> ToolRegistry:
    """Every tool of the agent, by name."""
    return {m.SPEC.name: Tool(spec=m.SPEC, label=m.label, run=m.run) for m in _MODULES}


def tool_specs(registry: ToolRegistry) -> list[ToolSpec]:
    """The JSON schemas the model sees, in a stable order."""
    return [tool.spec for tool in registry.values()]


TOOL_NAMES = tuple(m.SPEC.name for m in _MODULES)

__all__ = [
    'TOOL_NAMES',
    'Tool',
    'ToolContext',
    'ToolInputError',
    'ToolOutcome',
    'ToolRegistry',
    'default_tools',
    'tool_specs',
]
