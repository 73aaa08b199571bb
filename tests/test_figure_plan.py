"""The figure planner's rules on hand-drawn graphs: main path, columns, chains and lanes,
skips, the U of an encoder–decoder, clean cuts and group brackets.

Every expected value is worked out by hand from the drawing in the test's comment (the
longest chain counted, each column read off the sketch); nothing comes from netdraw.
"""

from __future__ import annotations

from netdraw.figure.items import Dims, Item, ItemGraph
from netdraw.figure.plan import (
    Chain,
    assign_columns,
    assign_lanes,
    clean_cuts,
    group_text,
    longest_path,
    make_plan,
    shown_groups,
    skip_edges,
    u_levels,
)
from netdraw.ir import Graph, Group, Node


def items(spec: dict[str, int | None], groups: dict[str, tuple] | None = None
          ) -> dict[str, Item]:
    """Items with a map of height/width ``h`` (None: a vector), in the given order."""
    out = {}
    for k, (nid, h) in enumerate(spec.items()):
        node = Node(nid, nid, "conv", "Conv", group=(groups or {}).get(nid, ()))
        dims = Dims(c=8, h=h, w=h, rank=3) if h else Dims(c=8, rank=1)
        out[nid] = Item(nid, k, node, "conv", [nid], nid, "Conv", dims)
    return out


def graph(spec: dict[str, int | None], edges: list[tuple[str, str]],
          groups: dict[str, tuple] | None = None) -> ItemGraph:
    return ItemGraph(items(spec, groups), edges)


def preds_of(order, edges):
    out = {v: [] for v in order}
    for s, d in edges:
        out[d].append(s)
    return out


def succs_of(order, edges):
    out = {v: [] for v in order}
    for s, d in edges:
        out[s].append(d)
    return out


def test_longest_path_and_its_ties():
    # a -> b -> c -> d and a -> e -> d: the longer way through b, c
    order = list("abecd")
    edges = [("a", "b"), ("b", "c"), ("c", "d"), ("a", "e"), ("e", "d")]
    assert longest_path(order, preds_of(order, edges)) == list("abcd")
    # two equal ways: the earlier predecessor wins; two ends: the last-listed
    order = list("abcd")
    edges = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]
    assert longest_path(order, preds_of(order, edges)) == list("abd")
    assert longest_path(list("xy"), {"x": [], "y": []}) == ["y"]
    assert longest_path(["a"], {"a": []}) == ["a"]


def test_branch_items_sit_in_the_slack_between_their_neighbours():
    # main a b c d e f (columns 0-5); s: a source feeding e -> column 3 (just before e);
    # t: from a to f -> centred between asap 1 and alap 4 -> 2; u: from d, no consumer
    # on the way to the end -> asap 4; v after u -> 5
    order = ["a", "b", "c", "s", "t", "d", "u", "v", "e", "f"]
    edges = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "f"), ("s", "e"),
             ("a", "t"), ("t", "f"), ("d", "u"), ("u", "v")]
    main = list("abcdef")
    col = assign_columns(order, main, preds_of(order, edges), succs_of(order, edges))
    assert col == {"a": 0, "b": 1, "c": 2, "d": 3, "e": 4, "f": 5, "s": 3, "t": 2, "u": 4,
                   "v": 5}
    # a branch never sits left of its predecessor + 1
    order = ["a", "b", "c", "x", "y"]
    edges = [("a", "b"), ("b", "c"), ("c", "y"), ("a", "x"), ("x", "y")]
    col = assign_columns(order, ["a", "b", "c", "y"], preds_of(order, edges),
                         succs_of(order, edges))
    assert col["x"] == 1  # asap 1, alap 2: centred down to 1


def test_chains_lanes_and_skips_of_a_plan():
    # a -> b -> c -> d -> e, with a skip a -> c and two branches: a -> x -> e (over
    # columns 0-4) and b -> y -> d (over 1-3), which overlap: two lanes
    ig = graph(dict.fromkeys("abcxyde", 8),
               [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("a", "c"), ("a", "x"),
                ("x", "e"), ("b", "y"), ("y", "d")])
    plan = make_plan(ig)
    assert plan.main == list("abcde") and plan.order == list("abcxyde")
    assert [(c.items, c.lo, c.hi, c.lane) for c in plan.chains] == [
        (["x"], 0, 4, -1), (["y"], 1, 3, -2)]
    assert plan.lane == {"a": 0, "b": 0, "c": 0, "d": 0, "e": 0, "x": -1, "y": -2}
    assert plan.skips == [("a", "c")]
    assert not plan.u_shaped and plan.levels is None
    # wrapped after main index 1 (b): c, d, e and the branches from column 2 on row 1
    assert plan.rows_for([1]) == {"a": 0, "b": 0, "c": 1, "x": 1, "y": 1, "d": 1, "e": 1}
    assert plan.rows_for([]) == dict.fromkeys("abcxyde", 0)
    assert plan.rows_for([3, 0]) == {"a": 0, "b": 1, "c": 1, "x": 1, "y": 1, "d": 1, "e": 2}


def test_a_chain_follows_first_successors():
    # main a -> b -> c -> d; a -> p -> q -> d and p -> r -> d: p, q in one chain, r alone
    ig = graph(dict.fromkeys("abpqrcd", 8),
               [("a", "b"), ("b", "c"), ("c", "d"), ("a", "p"), ("p", "q"), ("q", "d"),
                ("p", "r"), ("r", "d")])
    plan = make_plan(ig)
    assert plan.main == ["a", "p", "q", "d"] or plan.main == list("abcd")
    chains = {tuple(c.items) for c in plan.chains}
    assert len(chains) == 2 and sum(len(c) for c in chains) == 3


def test_lanes_are_first_fit():
    chains = [Chain(["a"], 0, 2), Chain(["b"], 3, 5), Chain(["c"], 2, 4), Chain(["d"], 0, 6),
              Chain(["e"], 6, 6)]
    assert assign_lanes(chains) == 3
    # sorted by start, longer first: d(0-6) lane 1, a(0-2) lane 2, c(2-4) touches a -> 3,
    # b(3-5) lane 2, e(6) touches d -> lane 2
    assert [c.lane for c in chains] == [-2, -2, -3, -1, -2]
    assert assign_lanes([]) == 0


def test_skips_are_sorted_shortest_first():
    main = list("abcdef")
    col = {v: i for i, v in enumerate(main)} | {"x": 2}
    edges = [("a", "f"), ("b", "d"), ("a", "b"), ("c", "e"), ("a", "c"), ("x", "f"),
             ("a", "x")]
    assert skip_edges(edges, main, col) == [("a", "c"), ("b", "d"), ("c", "e"), ("a", "f")]


def test_clean_cuts_leave_two_items_each_side():
    # a b c d e f in a row, with a skip b -> d: cuts only after c (index 2)? no: b->d
    # crosses the cuts after b and after c; so cuts after... a (index 0) is too close to
    # the start, d (3) is the last allowed (n - 3 = 3)
    main = list("abcdef")
    col = {v: i for i, v in enumerate(main)}
    edges = [(u, v) for u, v in zip(main, main[1:], strict=False)] + [("b", "d")]
    assert clean_cuts(edges, main, col) == [3]
    assert clean_cuts(edges[:-1], main, col) == [1, 2, 3]
    assert clean_cuts([], ["a"], {"a": 0}) == []
    # an edge within one column crosses nothing
    assert clean_cuts(edges[:-1] + [("c", "c")], main, col) == [1, 2, 3]
    plan = make_plan(graph(dict.fromkeys(main, None), edges))
    assert plan.cuts == [3]


def unet(h_list: list[int | None], skips: list[tuple[int, int]]):
    names = [f"n{i}" for i in range(len(h_list))]
    edges = list(zip(names, names[1:], strict=False)) + [(names[a], names[b])
                                                          for a, b in skips]
    return graph(dict(zip(names, h_list, strict=True)), edges)


def test_an_encoder_decoder_is_a_u():
    # 64 32 16 32 64: two halvings down and back, skips at 64 and 32
    plan = make_plan(unet([64, 32, 16, 32, 64], [(0, 4), (1, 3)]))
    assert plan.levels == [0, 1, 2, 1, 0] and plan.u_shaped and plan.cuts == []
    assert plan.level_of() == {"n0": 0, "n1": 1, "n2": 2, "n3": 1, "n4": 0}
    # a vector at the ends keeps the level before it (the first known one at the start)
    plan = make_plan(unet([None, 64, 32, 16, 32, 64, None], [(1, 5), (2, 4)]))
    assert plan.levels == [0, 0, 1, 2, 1, 0, 0]
    plan = make_plan(unet([None, 32, 16, 8, 16, 32], [(1, 5)]))
    assert plan.levels == [0, 0, 1, 2, 1, 0]
    # exactly two halvings is enough; one is not
    assert make_plan(unet([16, 8, 4, 8, 16], [(0, 4)])).levels == [0, 1, 2, 1, 0]
    assert make_plan(unet([16, 8, 8, 16], [(0, 3)])).levels is None
    # no U without the wish, without skips, with a skip across levels, or going back down
    assert make_plan(unet([64, 32, 16, 32, 64], [(0, 4)]), u_shape=False).levels is None
    assert make_plan(unet([64, 32, 16, 32, 64], [])).levels is None
    assert make_plan(unet([64, 32, 16, 32, 64], [(0, 3)])).levels is None
    assert make_plan(unet([64, 32, 16, 32, 64, 32], [(0, 4)])).levels is None
    assert make_plan(unet([64, 16, 32, 16, 32, 64], [(0, 5)])).levels is None
    # a skip that ends before the bottom's last item, or starts after its first
    assert make_plan(unet([64, 32, 16, 16, 32, 64], [(1, 2)])).levels is None
    assert make_plan(unet([64, 32, 16, 16, 32, 64], [(3, 4)])).levels is None
    # the same level on both sides of a flat bottom is fine
    assert make_plan(unet([64, 32, 16, 16, 32, 64], [(1, 4), (0, 5)])).levels == [
        0, 1, 2, 2, 1, 0]
    # a skip along the bottom, from its first item to its last: still a U
    assert make_plan(unet([64, 32, 16, 16, 16, 32, 64], [(0, 6), (2, 4)])).levels == [
        0, 1, 2, 2, 2, 1, 0]
    # a skip that starts after the bottom (or ends before it) joins one side to itself
    assert make_plan(unet([64, 32, 16, 32, 32, 32], [(3, 5)])).levels is None
    assert make_plan(unet([32, 32, 32, 16, 32, 64], [(0, 2)])).levels is None
    # all vectors: no resolution to read
    assert make_plan(unet([None, None, None], [(0, 2)])).levels is None


def test_u_levels_need_a_main_path_without_branches():
    it = items({"a": 64, "b": 16, "c": 64})
    assert u_levels(["a", "b", "c"], it, [], [("a", "c")]) == [0, 2, 0]
    assert u_levels(["a", "b", "c"], it, [Chain(["x"], 0, 1)], [("a", "c")]) is None


def test_group_brackets():
    # a b c d e on the main path; groups: enc (a, b), enc/blk (a, b: a wrapper of enc? no:
    # enc/blk holds the same two: left out), dec (c, d, x) with x a branch inside its
    # columns, mid (b, c: overlaps enc at depth 1), solo (e alone: one item)
    groups = {"a": ("enc", "blk"), "b": ("enc", "blk"), "c": ("dec", "dec.conv"),
              "d": ("dec", "dec.1"), "x": ("dec",), "e": ("solo",)}
    ig = graph(dict.fromkeys("abcxde", 8),
               [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("c", "x"), ("x", "d")],
               groups)
    g = Graph("g")
    g.groups[("enc",)] = Group(("enc",), "Encoder")
    g.groups[("dec",)] = Group(("dec",), "Sequential")
    g.groups[("dec", "dec.conv")] = Group(("dec", "dec.conv"), "Conv2d")
    main = list("abcde")
    col = {"a": 0, "b": 1, "c": 2, "x": 3, "d": 3, "e": 4}
    brackets = shown_groups(g, ig, main, (1, 2), col=col)
    assert [(b.path, b.items, b.name, b.class_name, b.row) for b in brackets] == [
        (("enc",), ["a", "b"], "enc", "Encoder", 0),
        (("dec",), ["c", "x", "d"], "dec", "Sequential", 0)]
    # one row per bracket: a group split over two rows is left out
    rows = {"a": 0, "b": 1, "c": 1, "x": 1, "d": 1, "e": 1}
    assert [b.path for b in shown_groups(g, ig, main, (1,), row_of=rows.get)] == [("dec",)]
    # a branch of the group outside its main columns: left out
    assert [b.path for b in shown_groups(g, ig, main, (1,), col=col | {"x": 5})] == [
        ("enc",)]
    assert [b.path for b in shown_groups(g, ig, main, (1,), col=col | {"x": 1})] == [
        ("enc",)]


def test_bracket_names_and_rows():
    # depth-2 groups under one depth-1 group: inner names lose the parent's prefix
    # unless what is left is a number; the outer bracket moves a row out
    groups = {"a": ("layer1", "layer1.0"), "b": ("layer1", "layer1.0"),
              "c": ("layer1", "layer1.conv"), "d": ("layer1", "layer1.conv"),
              "e": ("head",), "f": ("head",)}
    ig = graph(dict.fromkeys("abcdefz", 8),
               [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "f"), ("f", "z")],
               groups)
    g = Graph("g")
    for path, cls in ((("layer1",), "Sequential"), (("layer1", "layer1.0"), "Bottleneck"),
                      (("layer1", "layer1.conv"), "Conv")):
        g.groups[path] = Group(path, cls)
    brackets = shown_groups(g, ig, list("abcdefz"), (1, 2))
    got = {b.path: (b.name, b.class_name, b.row) for b in brackets}
    assert got == {("layer1",): ("layer1", "Sequential", 1),
                   ("layer1", "layer1.0"): ("layer1.0", "Bottleneck", 0),
                   ("layer1", "layer1.conv"): ("conv", "Conv", 0),
                   ("head",): ("head", "", 0)}
    # only depth 1 asked: no inner brackets, every row 0
    assert {b.path: b.row for b in shown_groups(g, ig, list("abcdefz"), (1,))} == {
        ("layer1",): 0, ("head",): 0}
    # a group holding every item is no bracket; nor one of a single item
    whole = graph(dict.fromkeys("ab", 8), [("a", "b")], {"a": ("m",), "b": ("m",)})
    assert shown_groups(g, whole, ["a", "b"], (1,)) == []
    # a group whose main items are not contiguous
    gap = graph(dict.fromkeys("abc", 8), [("a", "b"), ("b", "c")],
                {"a": ("m",), "c": ("m",)})
    assert shown_groups(g, gap, ["a", "b", "c"], (1,)) == []
    # a group with items only off the main path
    off = graph(dict.fromkeys("abcx", 8), [("a", "b"), ("b", "c"), ("a", "x")],
                {"x": ("m",), "c": ()})
    assert shown_groups(g, off, ["a", "b", "c"], (1,)) == []


def test_group_text():
    assert group_text("layer1.0", "Bottleneck") == "layer1.0 · Bottleneck"
    assert group_text("layer1", "Sequential") == "layer1"
    assert group_text("Block", "Block") == "Block"
    assert group_text("enc", "") == "enc"
    assert group_text("enc", "Model") == "enc"
