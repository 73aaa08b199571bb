"""netdraw's layers and the imports between its parts, read from the source.

    .venv/bin/python scripts/layers.py              # print the import graph between parts
    .venv/bin/python scripts/layers.py --write      # rewrite docs/imports.dot from it

A *part* is a package of ``netdraw/`` (``passes``, ``backends``…) or a top-level module
(``ir``, ``api``…). Parts sit in layers; a part imports only parts of its own layer or of
layers below it (a lazy import inside a function counts too), and a few pairs in one layer
never import each other. ``tests/test_layering.py`` fails when an import breaks that, or
when ``docs/imports.dot`` (drawn on the docs' architecture page) no longer matches.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "netdraw"
DOT_FILE = ROOT / "docs" / "imports.dot"

#: Bottom to top: each layer's parts and what the layer is for.
LAYERS: list[tuple[str, str, frozenset[str]]] = [
    ("base", "the IR and what every part needs (errors, the op tables, schema, text tools)",
     frozenset({"errors", "ir", "ops", "schema", "version", "tools", "perf", "progress",
                "output", "latex", "describe", "settings", "install"})),
    ("transforms", "passes over the IR and the figure geometry",
     frozenset({"passes", "figure"})),
    ("readers and writers", "importers (with the zoo's models) and backends",
     frozenset({"importers", "factory", "zoo", "backends"})),
    ("features", "what is computed from a model or two: activations, CAMs, diffs, tables",
     frozenset({"viz", "diff", "summary"})),
    ("face", "what users call: the Python API, the command line, notebooks, Sphinx, serve",
     frozenset({"api", "notebook", "cli", "gallery", "gallery_paper", "sphinx", "server",
                "__init__", "__main__"})),
]

#: Pairs of one layer that must not import each other (importer -> backend and back:
#: adding a framework never touches a backend, adding a backend never an importer).
SEPARATE: frozenset[tuple[str, str]] = frozenset({
    ("backends", "importers"), ("backends", "factory"), ("backends", "zoo"),
    ("importers", "backends"), ("zoo", "backends"), ("factory", "backends"),
    ("passes", "figure"), ("figure", "passes"),
})


def layer_of(part: str) -> int:
    for index, (_, _, parts) in enumerate(LAYERS):
        if part in parts:
            return index
    raise KeyError(part)


def part_of(module: str) -> str:
    """``netdraw.passes.view`` -> ``passes``; ``netdraw`` -> ``__init__``."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def _module_name(path: Path, package: Path) -> str:
    rel = path.relative_to(package.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(package: Path = PACKAGE) -> Iterator[tuple[str, str, str, int]]:
    """(importing module, imported netdraw module, file, line) for every import statement in
    the package, lazy ones inside functions included."""
    for path in sorted(package.rglob("*.py")):
        module = _module_name(path, package)
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".")
                    base = base[:len(base) - node.level + (1 if is_package else 0)]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                # `from netdraw import zoo` imports the part, not the package's face
                targets = [f"{stem}.{alias.name}" if stem == "netdraw" else stem
                           for alias in node.names]
            for target in targets:
                if target == "netdraw" or target.startswith("netdraw."):
                    yield module, target, str(path.relative_to(package.parent)), node.lineno


def part_edges(package: Path = PACKAGE) -> dict[tuple[str, str], list[str]]:
    """(importing part, imported part) -> where (``file:line``), across parts only."""
    edges: dict[tuple[str, str], list[str]] = {}
    for module, target, file, line in imports(package):
        a, b = part_of(module), part_of(target)
        if a != b:
            edges.setdefault((a, b), []).append(f"{file}:{line}")
    return edges


def violations(package: Path = PACKAGE) -> list[str]:
    """One line per import that goes up a layer or joins a separated pair."""
    out = []
    for (a, b), where in sorted(part_edges(package).items()):
        try:
            la, lb = layer_of(a), layer_of(b)
        except KeyError as missing:
            out.append(f"{missing.args[0]} is in no layer of scripts/layers.py "
                       f"(imported at {where[0]})")
            continue
        if lb > la:
            out.append(f"{a} ({LAYERS[la][0]}) imports {b} ({LAYERS[lb][0]}): "
                       + ", ".join(where))
        elif (a, b) in SEPARATE:
            out.append(f"{a} imports {b}, which stay apart: " + ", ".join(where))
    return out


def reduced(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The transitive reduction: an edge a -> c is left out when a reaches c another way
    (a -> b -> c), so the drawing shows who depends on whom without every shortcut."""
    succ: dict[str, set[str]] = {}
    for a, b in edges:
        succ.setdefault(a, set()).add(b)

    def reaches(start: str, goal: str, skip: tuple[str, str]) -> bool:
        stack, seen = [start], {start}
        while stack:
            node = stack.pop()
            for nxt in succ.get(node, ()):
                if (node, nxt) == skip or nxt in seen:
                    continue
                if nxt == goal:
                    return True
                seen.add(nxt)
                stack.append(nxt)
        return False

    return {(a, b) for a, b in edges if not reaches(a, b, (a, b))}


def dot() -> str:
    """The import graph between parts as DOT (transitively reduced), one box per layer."""
    edges = reduced({e for e in part_edges() if not any(p.startswith("__") for p in e)})
    lines = ["// Generated by scripts/layers.py --write: the imports between netdraw's parts.",
             "digraph imports {", '  rankdir=TB; newrank=true; nodesep=0.25; ranksep=0.45;',
             '  node [shape=box, style="rounded,filled", fillcolor="#f4f4f4", '
             'fontname="Helvetica", fontsize=11];',
             '  edge [color="#888888", arrowsize=0.6];']
    present = {p for edge in edges for p in edge}
    for index, (name, _, parts) in reversed(list(enumerate(LAYERS))):
        members = sorted(p for p in parts if p in present and not p.startswith("__"))
        lines.append(f'  subgraph cluster_{index} {{ label="{name}"; fontname="Helvetica"; '
                     'fontsize=10; color="#cccccc";')
        lines += [f'    "{p}";' for p in members]
        lines.append("  }")
    lines += [f'  "{a}" -> "{b}";' for a, b in sorted(edges)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite {DOT_FILE.name}")
    args = parser.parse_args(argv)
    problems = violations()
    for line in problems:
        print(f"layers: {line}", file=sys.stderr)
    if args.write:
        DOT_FILE.write_text(dot(), encoding="utf-8")
        print(f"wrote {DOT_FILE.relative_to(ROOT)}")
    else:
        print(dot(), end="")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
