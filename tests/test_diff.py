"""``netdraw diff``: matching, what is reported, the table, the drawings, the CLI.

Oracles come from outside the diff code: torch's own module list and parameter counts
(ResNet-18 against a ResNet-34 built here from the zoo's blocks), the widths and module
types the variants are built with, hand counts of edges, Graphviz (``dot``), an XML
parser, ``pdflatex`` and ``pdftotext`` for the outputs.
"""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import ROOT, assert_one_line_error, dot_layout, require_module, require_tool, run_cli
from diff_models import HOSTILE, anonymise, chain_graph, hostile_pair

import netdraw
from netdraw import zoo
from netdraw.diff.match import longest_increasing
from netdraw.ir import Graph, Node, TensorSpec

torch = require_module("torch")
from netdraw.zoo import torch_models as tm  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


def resnet34() -> torch.nn.Module:
    """ResNet-34 from the zoo's building blocks: (3, 4, 6, 3) basic blocks."""
    return tm._build(tm.ResNet, tm.BasicBlock, (3, 4, 6, 3))


def mlp(sizes=(784, 256, 128, 10), act: type | None = None) -> torch.nn.Module:
    model = tm._build(tm.MLP, sizes)
    if act is not None:
        model.layers[2] = act()
    return model


def load(model: torch.nn.Module, shape, name: str) -> Graph:
    return netdraw.load(model, example_input=(torch.zeros(*shape),), name=name)


@pytest.fixture(scope="module")
def resnets():
    r18, r34 = tm.resnet18(), resnet34()
    return r18, r34, load(r18, (1, 3, 224, 224), "resnet18"), load(r34, (1, 3, 224, 224),
                                                                    "resnet34")


@pytest.fixture(scope="module")
def widened():
    return (load(mlp(), (1, 1, 28, 28), "mlp"),
            load(mlp((784, 512, 128, 10)), (1, 1, 28, 28), "mlp-wide"))


def basic_blocks(model: torch.nn.Module) -> set[str]:
    return {n for n, m in model.named_modules() if isinstance(m, tm.BasicBlock)}


def numel(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# -- a model against itself -----------------------------------------------------------


def test_a_model_against_itself_is_the_same():
    graph = zoo.load("resnet18")
    result = netdraw.diff(graph, zoo.load("resnet18"))
    assert result.same
    assert result.counts() == {"same": len(result.nodes), "changed": 0, "added": 0,
                               "removed": 0, "reshaped": 0}
    assert all(n.a == n.b for n in result.nodes.values())  # each node is its own partner
    assert result.params == (graph.total_params, graph.total_params)
    assert "no changes" in result.table()


def test_cli_same_model_exits_0_and_different_exits_1(tmp_path):
    same = run_cli("diff", "zoo:onnx-resnet", "zoo:onnx-resnet", "--summary")
    assert same.returncode == 0, same.stderr
    assert "no changes" in same.stdout and "same architecture" in same.stdout
    other = run_cli("diff", "zoo:onnx-resnet", "zoo:onnx-lenet5")
    assert other.returncode == 1, other.stderr
    assert "architectures differ" in other.stdout


# -- ResNet-18 against ResNet-34: blocks added per stage -------------------------------


def test_resnet18_vs_resnet34_adds_exactly_the_blocks_torch_lists(resnets):
    r18, r34, a, b = resnets
    expected = basic_blocks(r34) - basic_blocks(r18)
    assert expected == {"layer1.2", "layer2.2", "layer2.3", "layer3.2", "layer3.3",
                        "layer3.4", "layer3.5", "layer4.2"}
    result = netdraw.diff(a, b)
    added_blocks = {g.label for g in result.groups.values()
                    if g.status == "added" and g.class_name == "BasicBlock"}
    assert added_blocks == expected
    assert not [g for g in result.groups.values() if g.status == "removed"]
    for rec in result.nodes.values():
        inside = len(rec.group) > 1 and rec.group[1] in expected
        assert rec.status == ("added" if inside else "same"), (rec.name, rec.status)
    # parameters: torch's counts, and the difference is the added blocks' parameters
    assert result.params == (numel(r18), numel(r34))
    added = sum(numel(r34.get_submodule(name)) for name in expected)
    assert result.params[1] - result.params[0] == added
    # edges: the last block of each stage fed the next stage (conv1 and downsample.0 of
    # its first block; avgpool after layer4) in A: 2 + 2 + 2 + 1 connections are gone
    removed = [(result.union.nodes[e.src].name, result.union.nodes[e.dst].name)
               for e in result.edges if e.status == "removed"]
    assert sorted(removed) == sorted([
        ("layer1.1.relu", "layer2.0.conv1"), ("layer1.1.relu", "layer2.0.downsample.0"),
        ("layer2.1.relu", "layer3.0.conv1"), ("layer2.1.relu", "layer3.0.downsample.0"),
        ("layer3.1.relu", "layer4.0.conv1"), ("layer3.1.relu", "layer4.0.downsample.0"),
        ("layer4.1.relu", "avgpool")])


def test_resnet18_vs_resnet34_without_names_matches_by_structure(resnets):
    r18, r34, a, b = resnets
    anon_a, _ = anonymise(a, "a")
    anon_b, old_b = anonymise(b, "b")
    result = netdraw.diff(anon_a, anon_b)
    assert result.matched["name"] == 0
    added = {old_b[n.b] for n in result.nodes.values() if n.status == "added"}
    expected = basic_blocks(r34) - basic_blocks(r18)
    # the added layers are those of the added blocks: an inserted block is reported after
    # the identical ones, as torch's numbering also puts it
    assert {".".join(nid.split(".")[:2]) for nid in added} == expected
    assert len(added) == sum(1 for nid in b.nodes if ".".join(nid.split(".")[:2]) in expected)
    assert result.counts()["removed"] == 0 and result.counts()["changed"] == 0


def test_collapsed_block_shows_changed_and_expand_opens_it(resnets):
    *_, a, b = resnets
    result = netdraw.diff(a, b)
    from netdraw.diff.draw import union_view
    from netdraw.passes import ViewOptions

    view = union_view(result, ViewOptions(depth=1))
    blocks = {n.name: n for n in view if n.kind == "block"}
    assert set(blocks) == {"layer1", "layer2", "layer3", "layer4"}
    for node in blocks.values():
        assert node.attrs["diff"]["status"] == "changed"
        assert "added" in node.attrs["diff"]["note"]
    assert view.nodes["conv1"].attrs["diff"]["status"] == "same"
    opened = union_view(result, ViewOptions(depth=1, expand=("layer1",), roll=False))
    statuses = {n.name: n.attrs["diff"]["status"] for n in opened
                if n.group[:1] == ("layer1",)}
    assert statuses["layer1.2.conv1"] == "added" and statuses["layer1.0.conv1"] == "same"
    assert "layer2" in {n.name for n in opened if n.kind == "block"}


# -- a widened layer and a swapped activation -----------------------------------------


def test_widened_layer_is_one_cause_and_shape_changes_after_it(widened):
    a, b = widened
    result = netdraw.diff(a, b)
    by_name = {n.name: n for n in result.nodes.values()}
    wide, relu, nxt = by_name["layers.1"], by_name["layers.2"], by_name["layers.4"]
    assert [n.name for n in result.nodes.values() if n.label == "changed"] == ["layers.1"]
    assert {(c.key, c.before, c.after) for c in wide.changes if c.what == "attr"} == \
        {("units", 256, 512)}
    old, new = mlp(), mlp((784, 512, 128, 10))
    assert (wide.params_a, wide.params_b) == (numel(old.layers[1]), numel(new.layers[1]))
    assert relu.label == "reshaped"
    assert [(c.what, c.before, c.after) for c in relu.changes] == \
        [("inputs", ["1×256"], ["1×512"]), ("outputs", ["1×256"], ["1×512"])]
    assert nxt.label == "reshaped"
    assert (nxt.params_a, nxt.params_b) == (numel(old.layers[4]), numel(new.layers[4]))
    assert [n.name for n in result.nodes.values() if n.label == "same"] == \
        ["x", "layers.0", "layers.5", "layers.7", "output"]
    text = result.table(full=True)
    assert "units 256 → 512" in text and "reshaped" in text


def test_widened_layer_without_names(widened):
    a, b = widened
    anon_a, _ = anonymise(a, "a")
    anon_b, old_b = anonymise(b, "b")
    result = netdraw.diff(anon_a, anon_b)
    causes = [old_b[n.b] for n in result.nodes.values() if n.label == "changed"]
    assert causes == ["layers.1"]
    assert result.counts()["added"] == result.counts()["removed"] == 0


def test_swapped_activation():
    a = load(mlp(), (1, 1, 28, 28), "mlp")
    b = load(mlp(act=torch.nn.GELU), (1, 1, 28, 28), "mlp-gelu")
    result = netdraw.diff(a, b)
    changed = [n for n in result.nodes.values() if n.status != "same"]
    assert [(n.name, n.op_type_a, n.op_type_b) for n in changed] == \
        [("layers.2", "ReLU", "GELU")]
    assert [c.what for c in changed[0].changes] == ["op_type"]
    assert result.params[0] == result.params[1] == numel(mlp())
    anon = netdraw.diff(anonymise(a, "a")[0], anonymise(b, "b")[0])
    assert [(n.op_type_a, n.op_type_b) for n in anon.nodes.values() if n.status != "same"] \
        == [("ReLU", "GELU")]


# -- drawings -------------------------------------------------------------------------


def _svg_nodes(svg: str | bytes) -> dict[str, ET.Element]:
    root = ET.fromstring(svg.encode() if isinstance(svg, str) else svg)
    out = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "node":
            text = " ".join(t.text or "" for t in g.iter(f"{SVG}text"))
            out[text] = g
    return out


def _shape(g: ET.Element) -> ET.Element:
    return next(e for e in g.iter() if e.tag in (f"{SVG}path", f"{SVG}polygon", f"{SVG}ellipse"))


def test_union_drawing_colours_labels_and_legend(widened, tmp_path):
    result = netdraw.diff(*widened)
    dot = result.render("dot", full=True)
    svg = dot_layout(dot)  # Graphviz accepts it without a warning
    nodes = _svg_nodes(svg)
    changed = next(g for text, g in nodes.items() if "units 256 → 512" in text)
    assert _shape(changed).get("fill") == "#ffd27a"
    reshaped = next(g for text, g in nodes.items() if "layers.2" in text)
    assert _shape(reshaped).get("fill") == "#fff4d6"
    same = next(g for text, g in nodes.items() if "layers.5" in text)
    assert _shape(same).get("fill") == "#f2f2f2"
    assert {t for t in nodes if t.startswith(("Δ changed", "same", "Δ shapes"))} == \
        {"Δ changed", "Δ shapes follow a change upstream", "same"}
    assert "params 201.0k → 401.9k" in " ".join(nodes)
    edge_text = svg.decode()
    assert "1×256 → 1×512" in edge_text  # the changed tensor on its edge
    png = result.render("png", full=True)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "mlp-wide.png").write_bytes(png)


def test_removed_nodes_are_dashed_and_added_green(resnets):
    *_, a, b = resnets
    result = netdraw.diff(b, a)  # ResNet-34 -> ResNet-18: blocks removed
    svg = result.render("svg", depth=2, roll=False)
    nodes = _svg_nodes(svg)
    gone = next(g for text, g in nodes.items() if text.startswith("− layer1.2"))
    shape = _shape(gone)
    assert shape.get("stroke") == "#cb181d" and shape.get("stroke-dasharray")
    assert shape.get("fill") == "#fde0dd"
    root = ET.fromstring(svg)
    dashed_red = [p for p in root.iter(f"{SVG}path")
                  if p.get("stroke") == "#cb181d" and p.get("stroke-dasharray")]
    assert len(dashed_red) >= 8  # eight removed blocks' outlines at least
    assert "− removed (only in A)" in nodes


def test_side_by_side_aligns_and_links_matched_nodes(widened):
    result = netdraw.diff(*widened)
    dot = result.render("dot", side_by_side=True, full=True)
    svg = dot_layout(dot)
    root = ET.fromstring(svg)
    titles = [t.text for t in root.iter(f"{SVG}text")]
    assert "A: mlp" in titles and "B: mlp-wide" in titles
    links = [line for line in dot.splitlines() if 'constraint="false"' in line]
    assert len(links) == len(result.nodes)  # every node is matched: one link each
    assert dot.count("{rank=same;") == len(result.nodes) + 1  # pairs and the legend row
    nodes = _svg_nodes(svg)
    # each side labels its own facts: A's layer is 256 wide, B's 512
    assert any("Linear · 256" in t for t in nodes) and any("Linear · 512" in t for t in nodes)
    with pytest.raises(netdraw.NetdrawError, match="side-by-side"):
        result.render("tex", side_by_side=True)


def test_tikz_diff_figure_compiles_and_says_what_changed(widened, resnets, tmp_path):
    from test_tikz import pdf_text

    result = netdraw.diff(*widened)
    pdf = result.render("pdf", style="tikz")
    text = pdf_text(pdf, tmp_path)
    assert "[1] layers.1: units 256 → 512" in text.replace("\n", " ")
    assert "changed" in text and "same" in text
    *_, a, b = resnets
    pdf = netdraw.diff(a, b).render("pdf", style="tikz", depth=2)
    text = pdf_text(pdf, tmp_path)
    assert "+ added (only in B)" in text and "+ layer1.2" in text


# -- the table ------------------------------------------------------------------------


def test_summary_formats_through_the_cli(widened, tmp_path):
    args = ("diff", "zoo:mlp", "diff_models_torch:wide_mlp", "--full", "--input-shape",
            "1,1,28,28")
    text = run_cli(*args, cwd=Path(__file__).parent)
    assert text.returncode == 1, text.stderr
    rows = [line.split() for line in text.stdout.splitlines()]
    assert ["changed", "layers.1", "Fully", "connected", "units", "256", "→", "512;",
            "params", "201.0k", "→", "401.9k", "200,960", "401,920"] in rows
    files = []
    for graph in widened:  # the same pair as JSON files: no framework to start
        files.append(tmp_path / f"{graph.name}.json")
        files[-1].write_text(graph.to_json())
    md = run_cli("diff", *map(str, files), "--full", "--markdown")
    assert md.returncode == 1
    table = [line for line in md.stdout.splitlines() if line.startswith("| ")]
    assert table[0] == "| Status | Layer | Kind | Change | Params A | Params B |"
    assert all(line.count("|") == 7 for line in table[:4])
    assert "| changed | layers.1 | Fully connected | units 256 → 512; params 201.0k → 401.9k | " \
        "200,960 | 401,920 |" in table
    latex = run_cli("diff", *map(str, files), "--full", "--latex")
    assert latex.returncode == 1
    if require_tool("pdflatex"):
        text = " ".join(_compile_table(latex.stdout, tmp_path).split())
        assert "Params A Params B" in text  # the table fits the page: no column cut off
        assert "layers.1 Fully connected units 256 → 512; params 201.0k" in text


def _compile_table(tabular: str, tmp_path: Path) -> str:
    """Compile a --latex table in a document; its text as pdftotext reads it."""
    doc = ("\\documentclass{article}\\usepackage{booktabs}\\begin{document}\n" + tabular +
           "\\end{document}\n")
    (tmp_path / "t.tex").write_text(doc)
    proc = subprocess.run(["pdflatex", "-halt-on-error", "-no-shell-escape", "t.tex"],
                          cwd=tmp_path, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stdout.decode(errors="replace")[-2000:]
    return subprocess.run(["pdftotext", "-raw", "t.pdf", "-"], cwd=tmp_path,
                          capture_output=True, check=True).stdout.decode()


# -- hostile names --------------------------------------------------------------------


def test_hostile_names_through_every_output_format(tmp_path):
    a, b = hostile_pair()
    fa, fb = tmp_path / "a.json", tmp_path / "b.json"
    fa.write_text(a.to_json())
    fb.write_text(b.to_json())
    result = netdraw.diff(a, b)
    assert result.counts() == {"same": 1, "changed": 1, "added": 1, "removed": 1,
                               "reshaped": 1}
    for suffix in ("dot", "svg", "png", "pdf", "json", "tex"):
        out = tmp_path / f"d.{suffix}"
        proc = run_cli("diff", str(fa), str(fb), "-o", str(out))
        assert proc.returncode == 0, (suffix, proc.stderr)
        data = out.read_bytes()
        if suffix == "dot":
            dot_layout(data.decode())
        elif suffix == "svg":
            ET.fromstring(data)
        elif suffix == "json":
            loaded = json.loads(data)
            assert loaded["schema"] == "netdraw.diff/1"
            assert HOSTILE + "fc" in {n["name_b"] for n in loaded["nodes"]}
            Graph.from_dict(loaded["union"])
            Graph.from_dict(loaded["view"])
        elif suffix == "tex" and require_tool("pdflatex"):
            proc = subprocess.run(["pdflatex", "-halt-on-error", "-no-shell-escape",
                                   out.name], cwd=tmp_path, capture_output=True, timeout=120)
            assert proc.returncode == 0, proc.stdout.decode(errors="replace")[-1500:]
        else:
            assert len(data) > 100
    side = tmp_path / "side.svg"
    assert run_cli("diff", str(fa), str(fb), "-o", str(side), "--side-by-side").returncode == 0
    ET.fromstring(side.read_bytes())
    for flag in ("--summary", "--markdown", "--latex"):
        proc = run_cli("diff", str(fa), str(fb), flag)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        if flag == "--latex" and require_tool("pdflatex"):
            _compile_table(proc.stdout, tmp_path)
        if flag == "--markdown":
            rows = [ln for ln in proc.stdout.splitlines() if ln.startswith("| ")]
            assert all(ln.count("|") - ln.count("\\|") == 7 for ln in rows[:5])


# -- two 10k-node graphs --------------------------------------------------------------


def test_two_10k_node_graphs():
    a = chain_graph(3333, name="A")
    b = chain_graph(3333, name="B", widen=1000, drop=2000, insert=3000, act={500: "Tanh"})
    assert len(a) == 10_001
    result = netdraw.diff(a, b)
    counts = result.counts()
    # hand count: the widened dense and the swapped activation are causes, the widened
    # block's activation follows; its projection and the new block (3 layers) are added,
    # the dropped block's 3 layers removed. Between the dropped block and the inserted one
    # every block sits one place earlier, so blocks 2100, 2200, … 2900 move from scope
    # stage21, stage22, … into the stage before: 9 × 3 layers renamed (their weights are
    # saved under other keys); everything else is the same.
    assert counts == {"same": 9968, "changed": 29, "added": 4, "removed": 3, "reshaped": 1}
    renamed = sorted((n.name_a, n.name_b) for n in result.nodes.values() if n.renamed_only)
    assert renamed == sorted((f"stage{k // 100}/block{k}/{p}", f"stage{k // 100 - 1}/block{k}/{p}")
                             for k in range(2100, 3000, 100) for p in ("fc", "act", "add"))
    causes = sorted(n.name for n in result.nodes.values()
                    if n.label == "changed" and not n.renamed_only)
    assert causes == ["stage10/block1000/fc", "stage5/block500/act"]
    removed = sorted(n.name_a for n in result.nodes.values() if n.status == "removed")
    assert removed == [f"stage20/block2000/{k}" for k in ("act", "add", "fc")]
    # Without names, identical blocks are interchangeable: a block dropped from a run of
    # equal blocks is some block of that run (and between a widened block and a dropped
    # one, any block could be the one that changed), so the anonymous checks keep the
    # changes apart and check what a dropped block was, not where.
    anon = netdraw.diff(chain_graph(3333, names=False),
                        _renamed(chain_graph(3333, widen=1000, act={500: "Tanh"},
                                             names=False)))
    assert anon.matched["name"] == 0
    assert anon.counts() == {"same": 9998, "changed": 2, "added": 1, "removed": 0,
                             "reshaped": 1}
    assert sorted((n.op_type_a, n.op_type_b) for n in anon.nodes.values()
                  if n.label == "changed") == [("MatMul", "MatMul"), ("Relu", "Tanh")]
    dropped = netdraw.diff(chain_graph(333, names=False),
                           _renamed(chain_graph(333, drop=200, names=False)))
    assert dropped.counts()["removed"] == 3 and dropped.counts()["same"] == 1001 - 3
    assert sorted(n.kind for n in dropped.nodes.values() if n.status == "removed") == \
        ["activation", "add", "dense"]


def _renamed(graph: Graph) -> Graph:
    """Other names for every node (input and output too): nothing matches by name."""
    for node in graph:
        node.name = "b_" + node.name
    return graph


# -- pieces ---------------------------------------------------------------------------


def _chain(name: str, ops: list[str]) -> Graph:
    g = Graph(name)
    g.add_node(Node("x", "x", "input", "Input", outputs=[TensorSpec((1, 4))]))
    prev = "x"
    for op in ops:
        g.add_node(Node(op, op, "activation", op, inputs=[TensorSpec((1, 4))],
                        outputs=[TensorSpec((1, 4))]))
        g.add_edge(prev, op, TensorSpec((1, 4)))
        prev = op
    g.add_node(Node("out", "out", "output", "Output", inputs=[TensorSpec((1, 4))]))
    g.add_edge(prev, "out", TensorSpec((1, 4)))
    g.validate()
    return g


def test_swapped_layers_keep_the_union_acyclic():
    # matching both names would merge relu->tanh (A) and tanh->relu (B) into a cycle:
    # one pair is undone, so one layer moved (removed here, added there)
    result = netdraw.diff(_chain("a", ["Relu", "Tanh"]), _chain("b", ["Tanh", "Relu"]))
    assert [(n.status, n.name) for n in result.nodes.values()] == [
        ("same", "x"), ("added", "Tanh"), ("same", "Relu"), ("removed", "Tanh"),
        ("same", "out")]
    result.union.validate()  # raises on a cycle
    dot_layout(result.render("dot"))


def test_empty_graphs():
    result = netdraw.diff(Graph("a"), Graph("b"))
    assert result.same and result.counts()["same"] == 0
    assert "no changes" in result.table()


def test_longest_increasing_chain():
    pairs = [(0, 3), (1, 1), (2, 2), (3, 0), (4, 4), (5, 6), (6, 5)]
    chain = longest_increasing(pairs)
    assert len(chain) == 4
    assert all(a < b and c < d for (a, c), (b, d) in zip(chain, chain[1:], strict=False))


def test_cli_errors_are_one_line(tmp_path):
    proc = run_cli("diff", "zoo:onnx-resnet", str(tmp_path / "missing.onnx"), "-o",
                   str(tmp_path / "d.svg"))
    assert_one_line_error(proc, "no such file")
    assert not any(tmp_path.iterdir())
    proc = run_cli("diff", "zoo:onnx-resnet", "zoo:onnx-resnet", "-o", str(tmp_path / "d.tex"),
                   "--side-by-side")
    assert_one_line_error(proc, "side-by-side")
    proc = run_cli("diff", "zoo:onnx-resnet", "zoo:onnx-resnet", "-o", str(tmp_path / "d.xyz"))
    assert_one_line_error(proc, "unknown output format")
    proc = run_cli("diff", "zoo:onnx-resnet", "zoo:onnx-resnet", "--side-by-side")
    assert_one_line_error(proc, "-o OUT")
    assert not any(tmp_path.iterdir())


def test_diffing_onnx_files_imports_no_torch(tmp_path):
    from test_cli_and_dot import _loaded

    assert _loaded("diff", "zoo:onnx-resnet", "zoo:onnx-lenet5", "-o",
                   str(tmp_path / "d.dot")) == {"onnx"}
    assert _loaded("diff", "--help") == set()


def test_help_lists_diff():
    proc = run_cli("--help")
    assert "diff" in proc.stdout
    proc = run_cli("diff", "--help")
    assert proc.returncode == 0 and "--side-by-side" in proc.stdout and "exit status" in \
        proc.stdout
    assert (ROOT / "netdraw" / "cli" / "diff.py").exists()
