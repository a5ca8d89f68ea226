"""DESIGN.md's dependency rules, enforced by reading every import in the code.

Every import counts: at module level, inside functions and under `if TYPE_CHECKING`, absolute or relative.
Each layer has an explicit list of what it may import, so a new dependency is a decision made here, not one
that slips in unnoticed.
"""

from __future__ import annotations

import ast
import sys
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STDLIB = frozenset(sys.stdlib_module_names)

# What each layer may import besides the standard library and the project's own modules it is allowed.
CORE_LIBRARIES = {'pydantic', 'sqlmodel', 'sqlalchemy'}
# The few core modules that need one library more, each for a reason of its own.
CORE_EXTRAS = {
    'core.config': {'pydantic_settings'},  # settings read from the environment: pydantic's package for it
    'core.accounts': {'argon2'},  # password hashing
    'core.db': {'aiosqlite'},  # the one place that speaks to the SQLite driver directly (reserve_then_insert)
    'core.metrics': {'prometheus_client'},  # /metrics in the Prometheus text format, by the official client
    'core.observability': {'sentry_sdk'},  # optional error reporting (SENTRY_DSN), imported only when set
}
# Each adapter and the SDK it wraps ('' is the package's own __init__). A new adapter is added here.
ADAPTER_SDKS: dict[str, set[str]] = {
    '': set(),
    'blobs_fs': set(),
    'blobs_s3': {'boto3', 'botocore'},
    'egress_proxy': set(),
    'leader_memory': set(),
    'leader_redis': {'redis'},
    'llm_anthropic': {'anthropic'},
    'llm_offline': set(),
    'llm_openai_compat': {'httpx'},
    'notify_memory': set(),
    'notify_redis': {'redis'},
    'queue_arq': {'arq'},
    'queue_inprocess': set(),
    'sandbox_bridge_inside': set(),
    'sandbox_e2b': {'e2b'},
    'sandbox_egress_inside': set(),
    'sandbox_e2b_forward': set(),
    'sandbox_local': set(),
    'sandbox_local_bridge': set(),
    'sandbox_local_exec': set(),
    'sandbox_local_fs': set(),
    'sandbox_local_packages': set(),
    'sandbox_local_limits': set(),
    'screenshot_playwright': {'playwright'},
    'screenshot_playwright_checks': {'playwright'},
}
# httpx and websockets: the preview proxy forwards the app's requests and relays its sockets
UI_LIBRARIES = {'nicegui', 'fastapi', 'starlette', 'sqlmodel', 'httpx', 'websockets'}
JOBS_LIBRARIES = {'apscheduler', 'arq', 'sqlmodel', 'sqlalchemy'}  # sqlalchemy: the scheduler's job store
MAIN_LIBRARIES = {'nicegui'}  # main.py wires core, ui, jobs and migrations together and starts NiceGUI


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. core.journey.brief (a package is named by its __init__)
    rel: str  # its path from the repository root
    imports: frozenset[str]  # absolute dotted names; `from a import b` is a.b when that is a module


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def absolute(module: str | None, level: int, package: str) -> str:
    """The absolute name of an import's module; relative ones resolve against the importer's package."""
    if level == 0:
        return module or ''
    base = package.split('.')[: len(package.split('.')) - (level - 1)]
    return '.'.join([*base, module] if module else base)


def imports_in(source: str, *, package: str, known: frozenset[str]) -> frozenset[str]:
    """Every module `source` imports, wherever the import statement is (ast.walk visits function bodies)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = absolute(node.module, node.level, package)
            for alias in node.names:
                found.add(f'{base}.{alias.name}' if f'{base}.{alias.name}' in known else base)
    return frozenset(found)


def load_modules() -> dict[str, Module]:
    paths = [*ROOT.joinpath('core').rglob('*.py'), *ROOT.joinpath('ui').rglob('*.py')]
    paths += [*ROOT.joinpath('jobs').rglob('*.py'), ROOT / 'main.py']
    known = frozenset(module_name(p) for p in paths)
    modules = {}
    for path in sorted(paths):
        name = module_name(path)
        package = name if path.name == '__init__.py' else name.rpartition('.')[0]
        imports = imports_in(path.read_text(), package=package, known=known)
        modules[name] = Module(name, path.relative_to(ROOT).as_posix(), imports)
    return modules


MODULES = load_modules()


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(f'{package}.')


def top(name: str) -> str:
    return name.split('.')[0]


def app_core(name: str) -> bool:
    """What the app layers may use of core: everything but the adapters (core.services hands them out)."""
    return within(name, 'core') and not within(name, 'core.adapters')


def plain_core(name: str) -> bool:
    """What core itself may use: neither the adapters nor core.services, which wires them in."""
    return app_core(name) and name != 'core.services'


def adapter_of(name: str) -> str:
    return name.removeprefix('core.adapters').lstrip('.').split('.')[0]


def offenders(layer: Callable[[str], bool], allowed: Callable[[Module, str], bool]) -> list[str]:
    """`path: import` for each import of a module of `layer` that `allowed` refuses."""
    return sorted(
        f'{module.rel}: {name}'
        for module in MODULES.values()
        if layer(module.name)
        for name in module.imports
        if top(name) not in STDLIB and not allowed(module, name)
    )


def test_core_imports_only_its_libraries_and_core() -> None:
    def allowed(module: Module, name: str) -> bool:
        return plain_core(name) or top(name) in CORE_LIBRARIES | CORE_EXTRAS.get(module.name, set())

    assert offenders(plain_core, allowed) == []


def test_each_adapter_imports_only_core_its_own_helpers_and_its_sdk() -> None:
    def allowed(module: Module, name: str) -> bool:
        adapter = adapter_of(module.name)
        own = name.startswith(f'core.adapters.{adapter}') if adapter else False
        return plain_core(name) or own or top(name) in ADAPTER_SDKS[adapter]

    unlisted = sorted(
        {adapter_of(m.name) for m in MODULES.values() if within(m.name, 'core.adapters')} - set(ADAPTER_SDKS)
    )
    assert unlisted == [], 'list each new adapter and its SDK in ADAPTER_SDKS'
    assert offenders(lambda name: within(name, 'core.adapters'), allowed) == []


def test_services_imports_only_core_and_its_libraries() -> None:
    def allowed(_: Module, name: str) -> bool:
        return within(name, 'core') or top(name) in CORE_LIBRARIES

    assert offenders(lambda name: name == 'core.services', allowed) == []


def test_ui_imports_only_core_ui_and_web_libraries() -> None:
    def allowed(_: Module, name: str) -> bool:
        return (
            within(name, 'ui')
            or (within(name, 'core') and not within(name, 'core.adapters'))
            or top(name) in UI_LIBRARIES
        )

    assert offenders(lambda name: within(name, 'ui'), allowed) == []


def test_jobs_import_only_core_jobs_and_scheduling_libraries() -> None:
    def allowed(_: Module, name: str) -> bool:
        return within(name, 'jobs') or app_core(name) or top(name) in JOBS_LIBRARIES

    assert offenders(lambda name: within(name, 'jobs'), allowed) == []


def test_main_imports_only_the_app_layers_and_nicegui() -> None:
    def allowed(_: Module, name: str) -> bool:
        return top(name) in {'core', 'ui', 'jobs', 'migrations'} | MAIN_LIBRARIES

    assert offenders(lambda name: name == 'main', allowed) == []


def test_ui_and_jobs_never_import_each_other() -> None:
    found = [f'{m.rel}: {n}' for m in MODULES.values() if within(m.name, 'ui') for n in m.imports if top(n) == 'jobs']
    found += [f'{m.rel}: {n}' for m in MODULES.values() if within(m.name, 'jobs') for n in m.imports if top(n) == 'ui']
    assert found == []


def test_only_services_and_main_import_adapters() -> None:
    def importer(name: str) -> bool:
        return not within(name, 'core.adapters') and name not in {'core.services', 'main'}

    found = [
        f'{m.rel}: {n}' for m in MODULES.values() if importer(m.name) for n in m.imports if within(n, 'core.adapters')
    ]
    assert found == []


# ── cycles ────────────────────────────────────────────────────────────────────────────────────────


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components: modules that reach one another through imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for following in sorted(graph.get(node, ())):
            if following not in index:
                visit(following)
                low[node] = min(low[node], low[following])
            elif following in stack:
                low[node] = min(low[node], index[following])
        if low[node] == index[node]:
            component = stack[stack.index(node) :]
            del stack[stack.index(node) :]
            found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def shortest_cycle(graph: dict[str, set[str]], members: list[str]) -> list[str]:
    """A shortest import path from the first module of a component back to itself (breadth first)."""
    start, inside = members[0], set(members)
    queue, seen = deque([[start]]), {start}
    while queue:
        path = queue.popleft()
        for following in sorted(graph.get(path[-1], set()) & inside):
            if following == start:
                return [*path, start]
            if following not in seen:
                seen.add(following)
                queue.append([*path, following])
    raise AssertionError(f'{members} is not a cycle')


def knots(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import one another, however indirectly (a module importing itself is one)."""
    return [c for c in strongly_connected(graph) if len(c) > 1 or c[0] in graph.get(c[0], set())]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle for each knot: the shortest one through its first module."""
    return [shortest_cycle(graph, knot) for knot in knots(graph)]


def import_graph(modules: Iterable[Module], package: str) -> dict[str, set[str]]:
    names = {m.name for m in modules if within(m.name, package)}
    return {m.name: set(m.imports) & names for m in modules if m.name in names}


def test_core_has_no_import_cycle() -> None:
    graph = import_graph(MODULES.values(), 'core')
    found = [f'{" → ".join(shortest_cycle(graph, knot))} (knot: {", ".join(knot)})' for knot in knots(graph)]
    assert found == []


def test_the_cycle_finder_reports_each_knot_once() -> None:
    graph = {'a': {'b'}, 'b': {'c'}, 'c': {'a', 'd'}, 'd': set(), 'e': {'e'}, 'f': {'a'}}
    assert cycles(graph) == [['a', 'b', 'c', 'a'], ['e', 'e']]
    assert cycles({'a': {'b'}, 'b': set()}) == []


def test_imports_inside_functions_and_relative_imports_are_read() -> None:
    source = 'from . import sibling\nfrom ..other import thing\n\ndef f():\n    import core.hidden\n'
    known = frozenset({'core.journey.sibling'})
    found = imports_in(source, package='core.journey', known=known)
    assert found == {'core.journey.sibling', 'core.other', 'core.hidden'}
