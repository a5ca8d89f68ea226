"""bash: run a shell command in the workspace, streaming its output to the build logs."""

from __future__ import annotations

from typing import Any

from core import metrics
from core.agent.tools.base import ToolContext, ToolInputError, ToolOutcome, failed, schema, text_arg
from core.ports import SandboxError, ToolSpec

SPEC = ToolSpec(
    name='bash',
    description='Run a shell command in the project workspace (its root is the current directory). '
    'Returns the exit code and the output. Long-running servers are started by the platform, not here.',
    input_schema=schema(
        {
            'command': {'type': 'string'},
            'timeout': {'type': 'number', 'description': 'seconds; capped by the platform'},
        },
        ['command'],
    ),
)

_LABELS = [
    (('pytest', 'npm test', 'unittest', 'npm run test'), 'Ran the tests'),
    (('py_compile', 'compileall', 'tsc', 'lint', 'ruff'), 'Checked the code for mistakes'),
    (('pip install', 'npm install', 'npm ci', 'yarn', 'pnpm install'), 'Installed the dependencies'),
    (('mkdir',), 'Created folders'),
    (('ls', 'find ', 'tree'), 'Looked at the project files'),
]


def label(data: dict[str, Any]) -> str:
    command = str(data.get('command', ''))
    for needles, text in _LABELS:
        if any(needle in command for needle in needles):
            return text
    return 'Ran a command'


async def run(ctx: ToolContext, data: dict[str, Any]) -> ToolOutcome:
    command = text_arg(data, 'command')
    timeout = ctx.command_timeout
    if 'timeout' in data:
        if not isinstance(data['timeout'], int | float) or data['timeout'] <= 0:
            raise ToolInputError('Argument "timeout" must be a positive number of seconds.')
        timeout = min(float(data['timeout']), ctx.command_timeout)

    async def out(chunk: str) -> None:
        if ctx.on_output:
            await ctx.on_output(chunk, 'stdout')

    async def err(chunk: str) -> None:
        if ctx.on_output:
            await ctx.on_output(chunk, 'stderr')

    try:
        result = await metrics.timed_command('agent', ctx.sandbox.run(command, timeout=timeout, on_stdout=out,
                                                                      on_stderr=err))  # fmt: skip
    except SandboxError as exc:
        return failed(f'The command could not run: {exc}', label(data))
    output = (result.stdout + ('\n' if result.stdout and result.stderr else '') + result.stderr).strip()
    if result.timed_out:
        head = f'Timed out after {timeout:g} seconds and was stopped.'
    else:
        head = f'Exit code {result.exit_code}.'
    return ToolOutcome(ok=result.ok, output=f'{head}\n{output}' if output else head, label=label(data))
