"""The house rules of ARCHITECTURE.md ("Layers"), checked on the source: who may import whom.

Every module of ``shared/windowkeeper`` and every handler module under ``functions/`` is parsed;
every ``import`` counts, module-level or inside a function (a lazy import is still a dependency),
except those under ``if TYPE_CHECKING:`` for the cycle check (they never run).

The layers, lowest first:

* foundation: ``clock instants ids errors settings``: nothing of ours;
* policy: the pure engine: nothing outside ``policy`` but the foundation;
* model: ``accounts auth events ownership observability``, the webhook's records
  (``ingest.observations``, ``ingest.delta``), the ``ports`` and the *record* modules of ``store``
  and ``graph`` (those that reach no I/O library): what every layer shares;
* adapters: the modules that reach boto3, botocore, httpx or ``windowkeeper.aws`` (DynamoDB
  stores, the Graph client, the bus, the Scheduler client, the quarantine bucket, secrets);
* services: ``ingest sending scheduling asof``: the domain, reaching I/O only through ports;
* edges: ``wiring`` (builds adapters and services), ``http`` (the HTTP shape), and the handlers.

A module's I/O-ness is computed, not listed: it is I/O if it, or anything of ours it imports,
imports an I/O library. So a service that grew a ``boto3`` import anywhere below it fails here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / "shared"
FUNCTIONS = REPO / "functions"

IO_LIBRARIES = {"boto3", "botocore", "httpx", "urllib3", "socket", "requests"}

FOUNDATION = {
    "windowkeeper.clock",
    "windowkeeper.instants",
    "windowkeeper.ids",
    "windowkeeper.errors",
    "windowkeeper.settings",
    "windowkeeper.jsontext",
}
SERVICE_PACKAGES = ("windowkeeper.ingest", "windowkeeper.sending", "windowkeeper.scheduling")
SERVICE_MODULES = {"windowkeeper.asof"}
EDGE_PACKAGES = ("windowkeeper.wiring",)
EDGE_MODULES = {"windowkeeper.http"}
# Models and ports: shared vocabulary; they may not reach I/O or anything above them.
MODEL_MODULES = {
    "windowkeeper.sending.api_models",  # the send API's request models: data the ports name
    # The webhook's records: what an event says about a contact, and its per-contact fold (pure).
    "windowkeeper.ingest.observations",
    "windowkeeper.ingest.delta",
    "windowkeeper.accounts",
    "windowkeeper.auth",
    "windowkeeper.events",
    "windowkeeper.ownership",
    "windowkeeper.observability",
}


@dataclass
class Module:
    name: str
    path: Path
    imports: set[str] = field(default_factory=set)  # every import, ours and third-party
    runtime_imports: set[str] = field(default_factory=set)  # ours, not under TYPE_CHECKING


def _module_name(path: Path) -> str:
    if path.is_relative_to(SHARED):
        parts = list(path.relative_to(SHARED).with_suffix("").parts)
    else:  # a handler: functions/<function>/<module>.py, on sys.path as <module>
        parts = ["functions", *path.relative_to(FUNCTIONS).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, package: str) -> Iterable[tuple[str, bool]]:
    """(imported dotted name, runs at runtime) for every import in the tree."""

    def visit(node: ast.AST, runtime: bool) -> Iterable[tuple[str, bool]]:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for statement in node.body:
                yield from visit(statement, False)
            for statement in node.orelse:
                yield from visit(statement, runtime)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, runtime
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            for alias in node.names:
                yield f"{base}.{alias.name}", runtime  # a submodule, or a name in ``base``
            yield base, runtime
        for child in ast.iter_child_nodes(node):
            yield from visit(child, runtime)

    yield from visit(tree, True)


@cache
def modules() -> dict[str, Module]:
    found: dict[str, Module] = {}
    paths = sorted(SHARED.joinpath("windowkeeper").rglob("*.py")) + sorted(FUNCTIONS.rglob("*.py"))
    for path in paths:
        name = _module_name(path)
        found[name] = Module(name, path)
    handler_names = {name.rsplit(".", 1)[-1]: name for name in found if name.startswith("functions.")}
    for module in found.values():
        is_package = module.path.name == "__init__.py"
        package = module.name if is_package else module.name.rsplit(".", 1)[0]
        tree = ast.parse(module.path.read_text(encoding="utf-8"))
        for imported, runtime in _imports(tree, package):
            target = _resolve(imported, found, handler_names, module.name)
            if target is None:
                module.imports.add(imported.split(".")[0])  # third-party (or stdlib)
                continue
            module.imports.add(target)
            # A module's own parent packages are imported first by Python anyway: not an edge.
            if runtime and target != module.name and not module.name.startswith(f"{target}."):
                module.runtime_imports.add(target)
    return found


def _resolve(imported: str, found: dict[str, Module], handlers: dict[str, str], importer: str) -> str | None:
    if importer.startswith("functions.") and imported.split(".", maxsplit=1)[0] in handlers:
        # a handler module imported by its sibling (send_app imports contacts_routes)
        return handlers[imported.split(".", maxsplit=1)[0]]
    if not imported.startswith("windowkeeper"):
        return None
    name = imported
    while name and name not in found:
        name = name.rpartition(".")[0]
    return name or None


Graph = dict[str, Module]


def _ours(module: Module, graph: Graph) -> set[str]:
    return {name for name in module.imports if name in graph}


def reaches_io(name: str, graph: Graph) -> bool:
    """True if the module, or anything of ours it imports (transitively), imports an I/O library."""
    seen: set[str] = set()
    stack = [name]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        module = graph[current]
        if module.imports & IO_LIBRARIES or "windowkeeper.aws" in module.imports:
            return True
        stack.extend(_ours(module, graph))
    return False


def layer(name: str, graph: Graph | None = None) -> str:
    if name.startswith("functions."):
        return "handler"
    if name in FOUNDATION:
        return "foundation"
    if name in MODEL_MODULES:
        return "model"
    if name == "windowkeeper.policy" or name.startswith("windowkeeper.policy."):
        return "policy"
    if name in EDGE_MODULES or name.startswith(EDGE_PACKAGES):
        return "edge"
    if name in SERVICE_MODULES or name.startswith(SERVICE_PACKAGES):
        return "service"
    if name in MODEL_MODULES or name.startswith("windowkeeper.ports"):
        return "model"
    if name == "windowkeeper":
        return "foundation"
    return "adapter" if reaches_io(name, modules() if graph is None else graph) else "model"


# Which layers each layer may import (itself included where listed).
ALLOWED: dict[str, set[str]] = {
    "foundation": {"foundation"},
    "policy": {"foundation", "policy"},
    "model": {"foundation", "policy", "model"},
    "adapter": {"foundation", "policy", "model", "adapter"},
    "service": {"foundation", "policy", "model", "service"},
    "edge": {"foundation", "policy", "model", "adapter", "service", "edge"},
    "handler": {"foundation", "policy", "model", "service", "edge", "handler"},
}
# Beyond layers: the key formats are the store's business, and the handlers' only way to an
# adapter is their wiring module.
KEYS_MODULE = "windowkeeper.store.keys"


def violations(graph: Graph) -> list[str]:
    found: list[str] = []
    for module in graph.values():
        own = layer(module.name, graph)
        for target in sorted(_ours(module, graph)):
            if target == module.name or module.name.startswith(f"{target}."):
                continue  # a package's own __init__ (implicit parent import)
            theirs = layer(target, graph)
            if theirs not in ALLOWED[own]:
                found.append(f"{module.name} ({own}) imports {target} ({theirs})")
            if target == KEYS_MODULE and not module.name.startswith("windowkeeper.store"):
                found.append(f"{module.name} imports the key formats ({KEYS_MODULE}) outside store/")
        if own in {"foundation", "policy", "model", "service"}:
            libraries = sorted(module.imports & IO_LIBRARIES)
            if libraries:
                found.append(f"{module.name} ({own}) imports I/O libraries {libraries}")
    return found


def cycles(modules_graph: Graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), over runtime imports."""
    graph = {name: sorted(m.runtime_imports - {name}) for name, m in modules_graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0

    def connect(node: str) -> None:
        nonlocal counter
        work = [(node, iter(graph[node]))]
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        while work:
            current, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                    advanced = True
                    break
                if child in on_stack:
                    low[current] = min(low[current], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[current])
            if low[current] == index[current]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == current:
                        break
                if len(component) > 1:
                    components.append(sorted(component))

    for name in graph:
        if name not in index:
            connect(name)
    return components


def test_the_sources_are_found() -> None:
    names = set(modules())
    assert {"windowkeeper.policy.engine", "windowkeeper.store.keys", "functions.send.send_app"} <= names
    assert layer("windowkeeper.store.account_table") == "adapter"
    assert layer("windowkeeper.policy.engine") == "policy"
    assert layer("functions.webhook.webhook_app") == "handler"


def test_no_import_against_the_layer_rules() -> None:
    assert sorted(violations(modules())) == [], (
        "imports against the layer rules (see ARCHITECTURE.md, Layers)"
    )


def test_no_import_cycles() -> None:
    assert cycles(modules()) == []


def _synthetic(**imports: set[str]) -> Graph:
    graph: Graph = {}
    for name, imported in imports.items():
        dotted = name.replace("__", ".")
        graph[dotted] = Module(dotted, Path(f"{dotted}.py"), imports=set(imported))
    for module in graph.values():
        module.runtime_imports = {name for name in module.imports if name in graph}
    return graph


def test_the_checker_fails_on_a_service_reaching_a_store_and_on_a_cycle() -> None:
    graph = _synthetic(
        windowkeeper__sending__service={"windowkeeper.store.contact_table", "windowkeeper.store.keys"},
        windowkeeper__store__contact_table={"windowkeeper.aws", "windowkeeper.store.keys"},
        windowkeeper__store__keys=set(),
        windowkeeper__aws={"boto3"},
        windowkeeper__scheduling__jobs={"windowkeeper.scheduling.wiring"},
        windowkeeper__scheduling__wiring={"windowkeeper.scheduling.jobs", "windowkeeper.aws"},
    )

    found = violations(graph)

    assert (
        "windowkeeper.sending.service (service) imports windowkeeper.store.contact_table (adapter)" in found
    )
    assert any("windowkeeper.sending.service imports the key formats" in line for line in found)
    assert not any(line.startswith("windowkeeper.store.contact_table") for line in found)
    assert cycles(graph) == [["windowkeeper.scheduling.jobs", "windowkeeper.scheduling.wiring"]]
