#!/usr/bin/env python3
"""The module import graph of src/: for each module, the other top-level modules its files import
(`use crate::...`, `crate::x::` paths, `super::` reaching out of it, and `koelectra_ft::` in main.rs).

    scripts/module_graph.py            # top-level modules: config, model, tasks, ...
    scripts/module_graph.py --depth 2  # one level down: tasks::seq_cls, train::driver, ...
    scripts/module_graph.py --check    # exit 1 when the top-level graph has a cycle

Reads the source as text (no compiler); comments are left out.
"""
import re
import sys
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def module_of(path, depth):
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "mod":
        parts = parts[:-1]
    return "::".join(parts[:depth]), parts


def targets(text, parts, depth):
    """Module paths (to `depth` components) that a file's text names."""
    found = set()
    for group in re.findall(r"(?:crate|koelectra_ft)::\{([^}]*)\}", text):
        found |= {name.strip().split("::")[0] for name in group.split(",") if name.strip()}
    for path in re.findall(r"(?:crate|koelectra_ft)::((?:[a-z_0-9]+::)*[a-z_0-9]+)", text):
        found.add("::".join(path.split("::")[:depth]))
    for path in re.findall(r"\bsuper::((?:[a-z_0-9]+::)*[a-z_0-9]+)", text):
        base = parts[:-1] if parts else []
        found.add("::".join((base + path.split("::"))[:depth]))
    return {t for t in found if t and (SRC / t.split("::")[0]).exists() or (SRC / (t.split("::")[0] + ".rs")).exists()}


def graph(depth):
    edges = defaultdict(set)
    for path in sorted(SRC.rglob("*.rs")):
        module, parts = module_of(path, depth)
        code = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("//"))
        for target in targets(code, parts, depth):
            if target != module and not target.startswith(module + "::") and not module.startswith(target + "::"):
                edges[module].add(target)
    return edges


def has_cycle(edges):
    state = {}

    def visit(node):
        if state.get(node) == 1:
            return True
        if state.get(node) == 2:
            return False
        state[node] = 1
        if any(visit(n) for n in edges.get(node, ())):
            return True
        state[node] = 2
        return False

    return any(visit(n) for n in list(edges))


def main():
    depth = int(sys.argv[sys.argv.index("--depth") + 1]) if "--depth" in sys.argv else 1
    edges = graph(depth)
    for module in sorted(edges):
        print(f"{module:18} -> {', '.join(sorted(edges[module]))}")
    if "--check" in sys.argv and has_cycle(edges):
        sys.exit("the module graph has a cycle")


if __name__ == "__main__":
    main()
