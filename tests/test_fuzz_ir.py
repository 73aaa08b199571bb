"""Fuzzing the passes and every backend with random IR graphs (Hypothesis).

Random DAGs — names from the whole of Unicode with markup, TeX, XML, DOT and shell
metacharacters and control characters, shapes with symbolic and unknown dims, random
groups and attributes — go through random view options and every backend in the registry
(``netdraw.backends.BACKENDS``, so backends added later are fuzzed too). Properties: no
exception but NetdrawError; DOT is accepted by ``dot``; SVG parses as XML; JSON reads back
to the same bytes; a sample of TikZ compiles with ``pdflatex -no-shell-escape``; every
output is byte-identical when drawn again and under other ``PYTHONHASHSEED`` values.
"""

from __future__ import annotations

import hashlib
import html.parser
import pickle
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import cli_env, require_module

hypothesis = require_module("hypothesis")
from fuzz_strategies import fuzz_settings, graphs, names, view_options  # noqa: E402
from hypothesis import event, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import netdraw  # noqa: E402
from netdraw.backends import BACKENDS  # noqa: E402
from netdraw.errors import NetdrawError  # noqa: E402
from netdraw.ir import Graph  # noqa: E402

#: Formats that run an external program after the text is made (checked in a sample).
PROGRAM_FORMATS = {("graphviz", "png"), ("graphviz", "pdf"), ("tikz", "pdf"), ("tikz", "png")}


def style_options(name: str) -> st.SearchStrategy[dict]:
    """Options a user can give each style, valid or not."""
    if name == "graphviz":
        return st.fixed_dictionaries({}, optional={
            "rankdir": st.sampled_from(["TB", "LR", "BT", "RL", "XX"]),
            "title": st.one_of(st.none(), names()), "columns": st.integers(1, 4)})
    if name == "tikz":
        return st.fixed_dictionaries({}, optional={
            "theme": st.sampled_from(["default", "colorblind", "greyscale", "neon"]),
            "title": st.one_of(st.none(), names()), "legend": st.booleans(),
            "labels": st.booleans(), "spacing": st.floats(0.2, 4), "fragment": st.booleans()})
    if name == "json":
        return st.just({})
    return st.fixed_dictionaries({}, optional={  # the NN-SVG styles and later ones
        "scale": st.sampled_from(["log", "linear", "cubic"]), "spacing": st.floats(0.1, 12),
        "angle": st.floats(0, 90), "labels": st.booleans(), "legend": st.booleans(),
        "colors": st.sampled_from(["mono", "default", "conv=#9ecae1", "dense=orange,mono",
                                   "x=y", "conv=url(javascript:alert(1))"]),
        "title": st.one_of(st.none(), names())})


def check_output(style: str, fmt: str, data: str | bytes) -> None:
    """The output's real consumer accepts it."""
    assert isinstance(data, (str, bytes)) and data
    if fmt in ("dot", "gv"):
        proc = subprocess.run(["dot", "-Tsvg"], input=data.encode("utf-8"),
                              capture_output=True, timeout=120)
        assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
        ET.fromstring(proc.stdout)
    elif fmt == "svg":
        ET.fromstring(data.encode("utf-8") if isinstance(data, str) else data)
    elif fmt == "json":
        assert Graph.from_json(data).to_json() == data
    elif fmt in ("html", "htm"):
        parser = html.parser.HTMLParser()
        parser.feed(data if isinstance(data, str) else data.decode("utf-8"))
        parser.close()
    elif fmt == "tex":
        assert "\\write18" not in data and "\\input{/" not in data
    if isinstance(data, str):
        data.encode("utf-8")  # writable as a file (no lone surrogates)


def draw_all(graph: Graph, data: st.DataObject) -> list[tuple[str, str, str | bytes]]:
    """Render ``graph`` with random view options in every registered backend and format
    that needs no external program beyond ``dot``; NetdrawError is a valid answer."""
    group_names = [p[-1] for p in graph.groups]
    view = data.draw(view_options(group_names), label="view options")
    out = []
    for spec in BACKENDS:
        options = data.draw(style_options(spec.name), label=f"{spec.name} options")
        for fmt in spec.formats:
            if (spec.name, fmt) in PROGRAM_FORMATS:
                continue
            try:
                result = netdraw.render(graph, fmt, style=spec.name, **view, **options)
            except NetdrawError as exc:
                assert "\n" not in str(exc)
                event(f"{spec.name} {fmt}: refused")
                continue
            event(f"{spec.name} {fmt}: drawn")
            check_output(spec.name, fmt, result)
            again = netdraw.render(graph, fmt, style=spec.name, **view, **options)
            assert again == result, f"{spec.name} {fmt} differs when drawn again"
            out.append((spec.name, fmt, result))
    return out


@fuzz_settings(120)
@given(graph=graphs(), data=st.data())
def test_random_graphs_draw_in_every_backend(graph: Graph, data: st.DataObject) -> None:
    before = graph.to_dict() if _jsonable(graph) else None
    draw_all(graph, data)
    if before is not None:
        assert graph.to_dict() == before, "drawing changed the graph"


def _jsonable(graph: Graph) -> bool:
    try:
        graph.to_json().encode("utf-8")
    except (ValueError, TypeError):
        return False
    return True


@fuzz_settings(60)
@given(graph=graphs())
def test_random_graphs_round_trip_through_json(graph: Graph) -> None:
    """A graph netdraw writes as JSON reads back to the same bytes (or the writer refuses)."""
    try:
        text = netdraw.render(graph, "json")
    except NetdrawError:
        return
    again = Graph.from_json(text)
    assert again.to_json() == text
    assert [n.id for n in again] == [n.id for n in Graph.from_json(text)]


@fuzz_settings(6)
@given(graph=graphs(max_nodes=6), theme=st.sampled_from(["default", "colorblind"]))
def test_a_sample_of_random_tikz_compiles(graph: Graph, theme: str) -> None:
    """``pdflatex -no-shell-escape -halt-on-error`` accepts the TikZ of random graphs."""
    try:
        pdf = netdraw.render(graph, "pdf", style="tikz", theme=theme)
    except NetdrawError as exc:
        assert "pdflatex failed" not in str(exc), exc
        event("refused")
        return
    assert pdf[:5] == b"%PDF-"
    event("compiled")


@fuzz_settings(4)
@given(graph=graphs(max_nodes=8), fmt=st.sampled_from(["png", "pdf"]))
def test_a_sample_of_random_graphviz_binaries(graph: Graph, fmt: str) -> None:
    try:
        data = netdraw.render(graph, fmt)
    except NetdrawError:
        return
    assert data[:4] in (b"\x89PNG", b"%PDF")


# -- the same bytes whatever PYTHONHASHSEED is -------------------------------------------

_SAMPLE: list[Graph] = []


@fuzz_settings(15)
@given(graph=graphs(max_nodes=10))
def test_collect_graphs_for_the_hash_seed_check(graph: Graph) -> None:
    _SAMPLE.append(graph)


_RENDER_ALL = textwrap.dedent("""
    import hashlib, pickle, sys
    import netdraw
    from netdraw.backends import BACKENDS
    from netdraw.errors import NetdrawError
    graphs = pickle.load(open(sys.argv[1], "rb"))
    for i, graph in enumerate(graphs):
        for spec in BACKENDS:
            for fmt in spec.formats:
                if fmt in ("png", "pdf"):
                    continue
                try:
                    data = netdraw.render(graph, fmt, style=spec.name)
                except NetdrawError as exc:
                    data = "error: " + str(exc)
                if isinstance(data, str):
                    data = data.encode("utf-8", "surrogatepass")
                print(i, spec.name, fmt, hashlib.sha256(data).hexdigest())
""")


def test_outputs_do_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    """Run after the collector: the sample drawn under three PYTHONHASHSEED values."""
    if not _SAMPLE:
        pytest.skip("run with test_collect_graphs_for_the_hash_seed_check")
    path = tmp_path / "graphs.pickle"
    path.write_bytes(pickle.dumps(_SAMPLE))
    runs = []
    for seed in ("0", "1", "4242"):
        env = cli_env()
        env["PYTHONHASHSEED"] = seed
        proc = subprocess.run([sys.executable, "-c", _RENDER_ALL, str(path)],
                              capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        runs.append(proc.stdout)
    assert runs[0].count("\n") >= len(_SAMPLE) * 4
    assert runs[0] == runs[1] == runs[2]
    digest = hashlib.sha256(runs[0].encode()).hexdigest()
    assert digest
