"""The apps stand in layers, read from the source itself.

Every `import` and `from … import` counts, at the top of a module or inside a
function, so a cycle cannot hide in a function body. The order below is the
design: the project package at the bottom, the case record, the inbox and
the calls for cases it needs, the workflow, and the feature apps on top.
"""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

# Bottom first. An app may import the apps before it, never one after it.
LAYERS = [
    "casehub",
    "submissions",
    "inbox",
    "campaigns",
    "textcheck",
    "review",
    "showcase",
    "authoring",
    "desk",
    "stats",
    "exports",
    "backups",
    "demo",
]


def _sources(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" not in path.relative_to(ROOT).parts:
            yield path


def _imports(path: Path):
    """(imported module, line, inside a function) for every import in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    in_function = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            in_function.update(
                id(inner)
                for inner in ast.walk(node)
                if isinstance(inner, ast.Import | ast.ImportFrom)
            )
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, id(node) in in_function
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, node.lineno, id(node) in in_function


def app_graph() -> dict[str, dict[str, list[str]]]:
    """{app: {imported app: ["path:line", …]}} over the whole source."""
    graph = {app: {} for app in LAYERS}
    for app in LAYERS:
        for path in _sources(app):
            for module, line, _inside in _imports(path):
                target = module.split(".")[0]
                if target in graph and target != app:
                    where = f"{path.relative_to(ROOT)}:{line}"
                    graph[app].setdefault(target, []).append(where)
    return graph


def cycles(graph) -> list[list[str]]:
    """Every cycle found by a depth-first walk, as the list of apps on it."""
    found, state = [], {}

    def visit(app, trail):
        state[app] = "open"
        for target in sorted(graph[app]):
            if state.get(target) == "open":
                found.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[app] = "done"

    for app in sorted(graph):
        if app not in state:
            visit(app, [app])
    return found


def test_the_layers_are_the_installed_apps_in_order():
    ours = [app for app in settings.INSTALLED_APPS if (ROOT / app).is_dir()]
    assert ours == LAYERS


def test_no_import_cycle_between_apps():
    assert cycles(app_graph()) == []


def test_every_app_imports_only_the_layers_below_it():
    graph = app_graph()
    upward = {
        f"{app} imports {target}": where
        for app, targets in graph.items()
        for target, where in targets.items()
        if LAYERS.index(target) > LAYERS.index(app)
    }
    assert upward == {}


def test_no_app_reaches_another_from_inside_a_function():
    """An import of another app inside a function is how cycles are dodged."""
    inside = [
        f"{path.relative_to(ROOT)}:{line} {module}"
        for app in LAYERS
        for path in _sources(app)
        for module, line, in_function in _imports(path)
        if in_function and module.split(".")[0] in LAYERS
    ]
    assert inside == []


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b": []}, "b": {"c": []}, "c": {"a": []}, "d": {}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b": []}, "b": {}}) == []


# A case's status is written in one module. Read from the syntax tree: an
# assignment to `<something>.status` other than an issue's or an export
# job's, and a case status passed to a constructor, create() or update().
OTHER_STATUSES = {"issue", "job"}
WRITING_CALLS = {"Case", "create", "get_or_create", "update", "update_or_create"}
WORKFLOW = "review/workflow.py"
# The benchmark's synthetic archive: 20,000 published cases written in bulk
# into a series of their own, for `make bench` only.
BENCH_FIXTURE = "showcase/management/commands/bench_data.py"


def status_writes(tree) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "status"
                and ast.unparse(target.value) not in OTHER_STATUSES
            ):
                lines.append(node.lineno)
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else ast.unparse(func)
            for keyword in node.keywords:
                value = ast.unparse(keyword.value)
                if (
                    keyword.arg == "status"
                    and name in WRITING_CALLS
                    and (
                        value.startswith("Case.Status.") or "Case" in ast.unparse(func)
                    )
                ):
                    lines.append(node.lineno)
    return sorted(lines)


def _status_writes() -> dict[str, list[int]]:
    writes = {}
    for app in LAYERS:
        for path in _sources(app):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            found = status_writes(tree)
            if found:
                writes[str(path.relative_to(ROOT))] = found
    return writes


def test_case_status_is_written_in_the_workflow_only():
    writes = _status_writes()
    assert WORKFLOW in writes
    assert set(writes) - {WORKFLOW, BENCH_FIXTURE} == set(), writes


def test_the_status_finder_sees_each_kind_of_write():
    writes = [
        "case.status = Case.Status.APPROVED",
        "locked.status = target",
        "Case(branch=branch, status=Case.Status.PUBLISHED)",
        "Case.objects.create(title='t', status='draft')",
        "Case.objects.filter(pk=1).update(status=Case.Status.DRAFT)",
    ]
    for source in writes:
        assert status_writes(ast.parse(source)) == [1], source
    reads = [
        "if case.status == Case.Status.DRAFT: pass",
        "Case.objects.filter(status=Case.Status.IN_REVIEW)",
        "issue.status = Issue.Status.PUBLISHED",
        "job.status = ExportJob.Status.DONE",
    ]
    for source in reads:
        assert status_writes(ast.parse(source)) == [], source
