"""The Graphviz backend's boxes, tooltips, clusters, connectors and errors as ``dot`` draws
them: every expectation is read back from the SVG that Graphviz makes, and written by hand.

A handful of ``dot`` runs on five-node graphs: the file takes a few seconds.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from conftest import dot_layout, require_tool

from netdraw.backends import dot as dot_backend
from netdraw.backends.dot import label_parts, render, render_dot, to_dot
from netdraw.errors import NetdrawError
from netdraw.ir import Graph, Node, TensorSpec

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"


def _small(name: str = "tiny <net>", conv_name: str = "conv1") -> Graph:
    """input -> conv (in group stem) -> relu (in stem) -> a rolled block ×3 -> output."""
    g = Graph(name)
    a, b = TensorSpec((1, 3, 32, 32)), TensorSpec((1, 16, 16, 16))
    g.add_node(Node("x", "x", "input", "Input", outputs=[a]))
    g.add_node(Node("c", conv_name, "conv", "Conv", params=448, inputs=[a], outputs=[b],
                    attrs={"kernel_size": [3, 3], "stride": [2, 2], "out_channels": 16,
                           "macs": 110_592}, group=("stem",)))
    g.add_node(Node("r", "relu", "activation", "Relu", inputs=[b], outputs=[b],
                    group=("stem",)))
    g.add_node(Node("s", "stage", "block", "Block", attrs={"repeat": 3}, params=1000,
                    outputs=[b]))
    g.add_node(Node("y", "y", "output", "Output", inputs=[b]))
    for src, dst, spec in (("x", "c", a), ("c", "r", b), ("r", "s", b), ("s", "y", b)):
        g.add_edge(src, dst, spec)
    return g


def _svg(source: str) -> ET.Element:
    require_tool("dot")
    return ET.fromstring(dot_layout(source))


def _groups(svg: ET.Element, cls: str) -> dict[str, ET.Element]:
    """The SVG groups of class ``cls`` (node, edge, cluster) by their <title>."""
    return {g.find(f"{SVG}title").text: g for g in svg.iter(f"{SVG}g") if g.get("class") == cls}


def _texts(group: ET.Element) -> list[str]:
    return [t.text for t in group.iter(f"{SVG}text")]


def _tooltip(group: ET.Element) -> str | None:
    link = group.find(f".//{SVG}a")
    return None if link is None else link.get(f"{XLINK}title")


def _by_first_line(svg: ET.Element) -> dict[str, ET.Element]:
    return {_texts(g)[0]: g for g in _groups(svg, "node").values()}


def test_boxes_tooltips_and_edges_as_dot_draws_them() -> None:
    svg = _svg(to_dot(_small()))
    nodes = _by_first_line(svg)
    assert _texts(nodes["conv1"]) == ["conv1", "Conv · 3×3/2, 16", "1×16×16×16 · 448 params"]
    assert _texts(nodes["x"]) == ["x", "Input", "1×3×32×32"]
    assert _texts(nodes["stage"]) == ["stage", "Block ×3", "1×16×16×16 · 1.0k params"]
    assert _tooltip(nodes["conv1"]) == "conv1 (Conv): 448 params, 110.6k MACs"
    assert _tooltip(nodes["stage"]) == "stage (Block): 1,000 params"
    assert _tooltip(nodes["relu"]) == "relu (Relu)"
    # the name line is bold, the two others small; the shape line grey
    conv = list(nodes["conv1"].iter(f"{SVG}text"))
    assert [t.get("font-weight") for t in conv] == ["bold", None, None]
    assert [t.get("font-size") for t in conv] == ["11.00", "9.00", "9.00"]
    assert conv[2].get("fill") == "#444444"
    assert all(t.get("font-family", "").startswith("Helvetica") for t in conv)
    # the rolled block is a stack (box3d draws three extra lines), the input a bold box
    assert len(list(nodes["stage"].iter(f"{SVG}polyline"))) == 3
    assert not list(nodes["conv1"].iter(f"{SVG}polyline"))
    assert nodes["x"].find(f".//{SVG}polygon").get("stroke-width") == "1.4"
    # every edge carries its tensor's shape
    edges = sorted(t for g in _groups(svg, "edge").values() for t in _texts(g))
    assert edges == ["1×16×16×16"] * 3 + ["1×3×32×32"]
    # the group is a labelled cluster holding exactly its two nodes
    (cluster,) = _groups(svg, "cluster").values()
    assert _texts(cluster) == ["stem"]
    # the graph's name is the bold title at the top, escaped
    title = [t for t in svg.iter(f"{SVG}text") if t.get("font-size") == "14.00"]
    assert [t.text for t in title] == ["tiny <net>"]
    assert title[0].get("font-weight") == "bold"


def test_no_edge_labels_and_own_or_no_title() -> None:
    svg = _svg(to_dot(_small(), edge_labels=False, title="My <b>figure</b>"))
    assert not [t for g in _groups(svg, "edge").values() for t in _texts(g)]
    assert [t.text for t in svg.iter(f"{SVG}text") if t.get("font-size") == "14.00"] == \
        ["My <b>figure</b>"]
    untitled = _svg(to_dot(_small(name="")))
    assert not [t for t in untitled.iter(f"{SVG}text") if t.get("font-size") == "14.00"]
    assert not [t for t in _svg(to_dot(_small(), title="")).iter(f"{SVG}text")
                if t.get("font-size") == "14.00"]


@pytest.mark.parametrize("rankdir", ["TB", "LR", "BT", "RL"])
def test_rankdir_turns_the_drawing(rankdir: str) -> None:
    svg = _svg(to_dot(_small(), rankdir=rankdir))
    pos = {}
    for name, g in _by_first_line(svg).items():
        text = g.find(f".//{SVG}text")
        pos[name] = (float(text.get("x")), float(text.get("y")))
    (x0, y0), (x1, y1) = pos["x"], pos["y"]
    going = {"TB": y1 > y0, "BT": y1 < y0, "LR": x1 > x0, "RL": x1 < x0}
    assert going[rankdir], pos


def test_a_bad_rankdir_is_refused() -> None:
    with pytest.raises(NetdrawError) as err:
        to_dot(_small(), rankdir="XY")
    assert str(err.value) == "--rankdir must be TB or LR (or BT, RL), not 'XY'"


@pytest.mark.parametrize(("name", "shown"), [
    ("a<b>&c\"d'e", "a<b>&c\"d'e"),
    ("two\nlines\t and  spaces", "two lines and spaces"),
    ("bell\x07\x1b[31mred\x7f", "bell[31mred"),
    ("x" * 59 + "yz", "x" * 59 + "…"),  # 61 characters: shortened to 60
    ("x" * 60, "x" * 60),
    ("\ufffe\uffff", " "),  # nothing printable left: a space, never an empty label
])
def test_hostile_names_print_as_written(name: str, shown: str) -> None:
    svg = _svg(to_dot(_small(conv_name=name)))
    names = [_texts(g)[0] for g in _groups(svg, "node").values()]
    if shown == " ":
        assert sum(1 for n in names if n is None or not n.strip()) == 1, names
    else:
        assert shown in names, names


@pytest.mark.parametrize("name", ['back\\slash "quoted" \\n', "ends with \\", "\\N \\G \\L \\E",
                                  'C:\\Net\\"x"\\'])
def test_tooltips_keep_backslashes_and_quotes(name: str) -> None:
    """Graphviz expands \\N, \\G, \\n in tooltips unless the backslash is doubled."""
    svg = _svg(to_dot(_small(conv_name=name)))
    tips = {_tooltip(g) for g in _groups(svg, "node").values()}
    assert f"{name} (Conv): 448 params, 110.6k MACs" in tips, tips


@pytest.mark.parametrize(("column", "letters"), [
    (1, "A"), (2, "B"), (26, "Z"), (27, "AA"), (28, "AB"), (52, "AZ"), (53, "BA"),
    (702, "ZZ"), (703, "AAA"), (0, "A"),
])
def test_connector_letters_count_like_spreadsheet_columns(column: int, letters: str) -> None:
    assert dot_backend._connector_letter(column) == letters


def _chain(n: int) -> Graph:
    g = Graph("chain")
    spec = TensorSpec((1, 8))
    ids = [f"l{i}" for i in range(n)]
    for nid in ids:
        g.add_node(Node(nid, nid, "dense", "Gemm", params=72, inputs=[spec], outputs=[spec]))
    for a, b in zip(ids, ids[1:], strict=False):
        g.add_edge(a, b, spec)
    return g


def test_columns_wrap_with_lettered_connectors() -> None:
    svg = _svg(to_dot(_chain(12), columns=3))
    nodes = _by_first_line(svg)
    circles = [g for g in _groups(svg, "node").values() if g.find(f".//{SVG}ellipse") is not None]
    # into the second column (A) and the third (B): a connector at the foot of the column
    # before and one at the top of the next
    assert sorted(_texts(g)[0] for g in circles) == ["A", "A", "B", "B"]
    # the columns stand side by side, each read top to bottom
    x = {name: float(g.find(f".//{SVG}text").get("x")) for name, g in nodes.items()}
    y = {name: float(g.find(f".//{SVG}text").get("y")) for name, g in nodes.items()}
    assert x["l0"] < x["l4"] < x["l8"] and y["l0"] < y["l3"], (x, y)
    # one column when asked for one, and none of it when the drawing goes left to right
    for source in (to_dot(_chain(12), columns=1), to_dot(_chain(12), columns=3, rankdir="LR")):
        assert "wrap" not in source


def test_render_formats_and_errors(monkeypatch) -> None:
    require_tool("dot")
    source = to_dot(_small())
    assert render_dot(source, "png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert render_dot(source, "pdf")[:5] == b"%PDF-"
    assert render(_small(), "dot") == source == render(_small(), "gv")
    with pytest.raises(NetdrawError) as err:
        render_dot(source, "gif")
    assert str(err.value) == "Graphviz cannot render 'gif' here; choose one of svg, png, pdf"
    with pytest.raises(NetdrawError) as err:
        render_dot("digraph { a -> }", "svg")
    assert str(err.value).startswith("Graphviz 'dot' failed: ")
    assert "syntax error" in str(err.value)
    monkeypatch.setattr(dot_backend.shutil, "which", lambda name: None)
    with pytest.raises(NetdrawError) as err:
        render_dot(source, "svg")
    assert str(err.value) == ("rendering .svg needs Graphviz's 'dot' program, which is not "
                              "installed: run 'apt-get install graphviz' (Debian/Ubuntu) or "
                              "'brew install graphviz', or write .dot text instead")


def test_long_group_titles_are_shortened_and_the_cluster_styled() -> None:
    g = _small()
    long = "g" * 79 + "hi"  # 81 characters: cluster titles keep 80
    for nid in ("c", "r"):
        g.nodes[nid].group = (long,)
    svg = _svg(to_dot(g))
    (cluster,) = _groups(svg, "cluster").values()
    assert _texts(cluster) == ["g" * 79 + "…"]
    outline = cluster.find(f"{SVG}path")
    assert outline.get("stroke") == "#888888" and outline.get("stroke-dasharray")
    assert len(_groups(svg, "node")) == 5  # nothing but the five layers


def _fake_dot(tmp_path, monkeypatch, script: str) -> None:
    """A ``dot`` on PATH that behaves as ``script`` says (a broken or stuck Graphviz)."""
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n" + script + "\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")


@pytest.mark.parametrize(("script", "message"), [
    # the last line of dot's complaint, at most 300 characters of it
    ("printf 'Warning: one\\nError: %0400d\\n' 0 >&2; exit 1",
     "Graphviz 'dot' failed: Error: " + "0" * 293),
    ("exit 3", "Graphviz 'dot' failed: exit status 3"),  # no complaint at all
    ("printf 'bad \\377 byte\\n' >&2; exit 1", "Graphviz 'dot' failed: bad \ufffd byte"),
])
def test_a_failing_dot_is_reported(tmp_path, monkeypatch, script: str, message: str) -> None:
    _fake_dot(tmp_path, monkeypatch, script)
    with pytest.raises(NetdrawError) as err:
        render_dot(to_dot(_small()), "svg")
    assert str(err.value) == message


def test_a_stuck_dot_is_stopped_and_named(tmp_path, monkeypatch) -> None:
    _fake_dot(tmp_path, monkeypatch, "exec sleep 30")
    with pytest.raises(NetdrawError) as err:
        render_dot(to_dot(_small()), "svg", timeout=0.5)
    assert str(err.value).startswith("Graphviz 'dot' did not finish within 0.5 s")


def test_names_inside_a_group_drop_the_groups_prefix() -> None:
    """torchview-style: ``layer1.0.conv1`` inside the ``layer1.0`` cluster reads ``conv1``."""
    g = _small(conv_name="layer1.0.conv1")
    g.add_group(("layer1", "layer1.0"), "BasicBlock")
    for nid in ("c", "r"):
        g.nodes[nid].group = ("layer1", "layer1.0")
    g.nodes["r"].name = "layer1.0.relu"
    names = [_texts(n)[0] for n in _groups(_svg(to_dot(g)), "node").values()]
    assert sorted(names) == ["conv1", "relu", "stage", "x", "y"]


def test_label_parts_of_folded_rolled_and_plain_boxes() -> None:
    bn = Node("bn", "bn", "norm", "BatchNormalization", params=64, outputs=[TensorSpec((1, 8))],
              attrs={"folded": [{"id": "r", "name": "r", "kind": "activation",
                                 "op_type": "Relu", "params": 0, "attrs": {}}]})
    # a fold suffix follows the op type after a space, key attributes after " · "
    assert label_parts(bn) == ("bn", "BatchNormalization +relu", "1×8 · 64 params")
    assert label_parts(bn, show_shapes=False) == ("bn", "BatchNormalization +relu",
                                                  "64 params")
    # "repeat" means a rolled run only on a block
    odd = Node("t", "t", "other", "Tile", attrs={"repeat": 4}, outputs=[TensorSpec((2,))])
    assert label_parts(odd) == ("t", "Tile", "2")
    # a detail that only repeats the name is left out
    assert label_parts(Node("Relu", "Relu", "activation", "Relu")) == ("Relu", "", "")


def test_tooltips_drop_control_characters() -> None:
    svg = _svg(to_dot(_small(conv_name="bell\x07x\x1b")))
    tips = {_tooltip(g) for g in _groups(svg, "node").values()}
    assert "bellx (Conv): 448 params, 110.6k MACs" in tips, tips


def test_decorations_reach_the_drawing() -> None:
    """What ``netdraw diff`` asks for (graph.meta["decorations"]) as dot draws it."""
    g = _small()
    g.meta["decorations"] = {
        "nodes": {"c": {"fill": "#ffe3a3", "stroke": "#c77c02", "prefix": "~",
                        "notes": ["units 8 → 16"], "note_colour": "#8a5300"}},
        "edges": [{"src": "x", "dst": "c", "stroke": "#cb181d", "dashed": True,
                   "label": "1×3 → 1×4"},
                  {"src": "c", "dst": "r", "stroke": "#cb181d"},
                  {"src": "r", "dst": "s", "label": "changed"}]}
    svg = _svg(to_dot(g))
    conv = _by_first_line(svg)["~ conv1"]
    assert _texts(conv) == ["~ conv1", "Conv · 3×3/2, 16", "1×16×16×16 · 448 params",
                            "units 8 → 16"]
    assert conv.find(f".//{SVG}path").get("fill") == "#ffe3a3"
    edges = {title: g for title, g in _groups(svg, "edge").items()}
    first = edges["n0->n1"]
    assert _texts(first) == ["1×3 → 1×4"]  # the decoration's label replaces the shape
    assert first.find(f"{SVG}path").get("stroke") == "#cb181d"
    assert first.find(f"{SVG}path").get("stroke-dasharray")
    assert _texts(edges["n1->n2"]) == ["1×16×16×16"]  # no label of its own: the shape
    assert _texts(edges["n2->n3"]) == ["changed"]
    plain = _svg(to_dot(g, edge_labels=False))  # no labels at all, decorated or not
    assert not [t for e in _groups(plain, "edge").values() for t in _texts(e)]
    assert [e.find(f"{SVG}path").get("stroke") for title, e in _groups(plain, "edge").items()
            if title == "n0->n1"] == ["#cb181d"]


def test_graph_defaults_reach_the_drawing() -> None:
    """Helvetica everywhere, boxes rounded and filled, top to bottom unless asked."""
    source = to_dot(_small())
    svg = _svg(source)
    families = {t.get("font-family") for t in svg.iter(f"{SVG}text")}
    assert families == {"Helvetica,sans-Serif"}
    edge_texts = [t for e in _groups(svg, "edge").values() for t in e.iter(f"{SVG}text")]
    assert {t.get("font-size") for t in edge_texts} == {"8.00"}
