"""Model pairs for the diff tests, built by code: variants of the zoo's PyTorch models,
anonymised copies of graphs, hostile names, and big synthetic IR graphs."""

from __future__ import annotations

from netdraw.ir import Graph, Node, TensorSpec

HOSTILE = 'a"b<c>&d\\e{f}%g$h#i_j^k~l\nm\tñ ∑ ' + "x" * 120


def anonymise(graph: Graph, prefix: str = "n") -> tuple[Graph, dict[str, str]]:
    """A copy without names or groups (ids and names ``n0``, ``n1``… in node order), and
    the map new id -> old id: only structure is left to match by."""
    out = Graph(graph.name)
    out.meta = dict(graph.meta)
    new_ids = {nid: f"{prefix}{i}" for i, nid in enumerate(graph.nodes)}
    for nid, node in graph.nodes.items():
        copy = node.clone()
        copy.id = copy.name = new_ids[nid]
        copy.group = ()
        copy.attrs.pop("shared_with", None)
        out.add_node(copy)
    for e in graph.edges:
        out.add_edge(new_ids[e.src], new_ids[e.dst], e.tensor)
    return out, {v: k for k, v in new_ids.items()}


def chain_graph(blocks: int, width: int = 16, name: str = "chain", *,
                widen: int | None = None, drop: int | None = None,
                insert: int | None = None, act: dict[int, str] | None = None,
                names: bool = True) -> Graph:
    """A residual MLP of ``blocks`` blocks (dense → activation → add), 3 nodes each, in
    scopes ``stageS/blockK`` when ``names``. Variants: block ``widen`` has a dense layer
    twice as wide (its add then takes a projection), block ``drop`` is left out, a new
    block is inserted before block ``insert``, ``act`` maps block -> activation op."""
    g = Graph(name)
    g.meta["framework"] = "synthetic"
    x = g.add_node(Node("input", "input", "input", "Input",
                        outputs=[TensorSpec((1, width))])).id
    k = 0
    index = 0

    def block(label: str, wide: bool, op: str) -> None:
        nonlocal x, index
        prefix = f"stage{index // 100}/{label}" if names else f"n{index}"
        group = (f"stage{index // 100}", label) if names else ()
        units = width * 2 if wide else width
        fc = g.add_node(Node(f"{prefix}/fc", f"{prefix}/fc" if names else f"n{index}_0",
                             "dense", "MatMul", {"units": units}, width * units,
                             [TensorSpec((1, width))], [TensorSpec((1, units))], group))
        g.add_edge(x, fc.id, TensorSpec((1, width)))
        a = g.add_node(Node(f"{prefix}/act", f"{prefix}/act" if names else f"n{index}_1",
                            "activation", op, {}, 0, [TensorSpec((1, units))],
                            [TensorSpec((1, units))], group))
        g.add_edge(fc.id, a.id, TensorSpec((1, units)))
        last = a.id
        if wide:
            p = g.add_node(Node(f"{prefix}/proj", f"{prefix}/proj" if names else
                                f"n{index}_3", "dense", "MatMul", {"units": width},
                                units * width, [TensorSpec((1, units))],
                                [TensorSpec((1, width))], group))
            g.add_edge(a.id, p.id, TensorSpec((1, units)))
            last = p.id
        add = g.add_node(Node(f"{prefix}/add", f"{prefix}/add" if names else f"n{index}_2",
                              "add", "Add", {}, 0, [TensorSpec((1, width))] * 2,
                              [TensorSpec((1, width))], group))
        g.add_edge(last, add.id, TensorSpec((1, width)))
        g.add_edge(x, add.id, TensorSpec((1, width)))
        x = add.id
        index += 1

    for k in range(blocks):
        if k == insert:
            block(f"new{k}", False, "Tanh")
        if k == drop:
            continue
        block(f"block{k}", k == widen, (act or {}).get(k, "Relu"))
    out = g.add_node(Node("output", "output", "output", "Output",
                          inputs=[TensorSpec((1, width))]))
    g.add_edge(x, out.id, TensorSpec((1, width)))
    g.validate()
    return g


def hostile_pair() -> tuple[Graph, Graph]:
    """Two small graphs whose names, group labels and model names are hostile; B widens
    one layer, drops a normalisation and adds an activation, so every status shows."""
    def build(wide: bool, extra: bool) -> Graph:
        g = Graph(HOSTILE + (" B" if extra else " A"))
        g.meta["framework"] = "synthetic"
        g.add_node(Node("in", HOSTILE + "in", "input", "Input", outputs=[TensorSpec((1, 8))]))
        units = 32 if wide else 16
        g.add_node(Node("fc", HOSTILE + "fc", "dense", "Gemm", {"units": units,
                        "note": HOSTILE}, 8 * units, [TensorSpec((1, 8))],
                        [TensorSpec((1, units))], (HOSTILE,)))
        g.add_group((HOSTILE,), class_name=HOSTILE, label=HOSTILE)
        g.add_edge("in", "fc", TensorSpec((1, 8)))
        prev = "fc"
        if extra:
            g.add_node(Node("extra", HOSTILE + "extra", "activation", "Relu", {}, 0,
                            [TensorSpec((1, units))], [TensorSpec((1, units))], (HOSTILE,)))
            g.add_edge("fc", "extra", TensorSpec((1, units)))
            prev = "extra"
        else:
            g.add_node(Node("gone", HOSTILE + "gone", "norm", "BatchNormalization", {}, 32,
                            [TensorSpec((1, units))], [TensorSpec((1, units))]))
            g.add_edge("fc", "gone", TensorSpec((1, units)))
            prev = "gone"
        g.add_node(Node("out", HOSTILE + "out", "output", "Output",
                        inputs=[TensorSpec((1, units))]))
        g.add_edge(prev, "out", TensorSpec((1, units)))
        g.validate()
        return g

    return build(False, False), build(True, True)
