"""The package's layers, checked on its imports: every import points down, none in circles.

Bottom to top:
1. the shared vocabulary: errors, files, native, device, schema, settings, media, examples,
   curves;
2. the four stages, in the order of the data flow: face, audio, motion, render (a stage
   reads an earlier one only where the data flows: motion reads audio, render reads face);
3. what uses the stages: data (corpus, ingest), training, eval, latent_model (the learned
   face latent of notebook 06);
4. what puts it all together: pipeline, reenact, bench, doctor, viz, notebook, exercises,
   cli.
Imports inside functions count too: a lazy import is still a dependency.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vasa_core"
LAYERS = {
    1: {"errors", "files", "native", "device", "schema", "settings", "media", "examples", "curves"},
    2: {"face", "audio", "motion", "render"},
    3: {"data", "training", "eval", "latent_model"},
    4: {
        "pipeline",
        "live",
        "reenact",
        "bench",
        "bench_live",
        "doctor",
        "viz",
        "notebook",
        "exercises",
        "cli",
        "app",
        "__main__",
        "__init__",
    },
}
# Within layers 2 and 3, only these imports (the data flow; training reads the corpus,
# eval reads the viseme rules it measures articulation against).
# Inside layer 1 (the vocabulary) and layer 4 (the front ends) modules use each other
# freely; the cycle test below still holds for them.
SIDEWAYS = {("motion", "audio"), ("render", "face"), ("training", "data"), ("eval", "data")}
FREE_WITHIN = {1, 4}
RANK = {unit: rank for rank, units in LAYERS.items() for unit in units}


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules one file imports, wherever in the file."""
    targets = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets |= {a.name for a in node.names if a.name.startswith("vasa_core")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("vasa_core"):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                targets.add(submodule if submodule in modules else node.module)
    return targets


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) for name, path in modules.items()}


def test_every_unit_of_the_package_has_a_layer():
    assert {_unit(m) for m in _modules()} - {"assets", "checkpoints"} <= set(RANK)


def test_imports_only_point_down_the_layers():
    wrong = []
    for module, targets in _graph().items():
        here = _unit(module)
        for target in targets:
            there = _unit(target)
            if here == there or there not in RANK or here not in RANK:
                continue
            down = RANK[there] < RANK[here]
            level = RANK[there] == RANK[here]
            sideways = level and ((here, there) in SIDEWAYS or RANK[here] in FREE_WITHIN)
            if not (down or sideways):
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports that point up or sideways:\n" + "\n".join(sorted(wrong))


def test_no_module_imports_itself_through_others():
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if target == module or target not in graph:
                continue
            if state.get(target) == 1:
                cycle = path[path.index(target) :] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_the_checker_sees_an_upward_import(tmp_path):
    source = tmp_path / "x.py"
    source.write_text("def f():\n    from vasa_core.pipeline import Pipeline\n")
    assert _imports(source, _modules()) == {"vasa_core.pipeline"}
