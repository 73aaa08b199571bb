"""The HTML page model's rules at their boundaries, read back from the page's JSON: block
tensors and totals, thumbnails and extra rows, JSON safety, the first view's options.

Oracles: hand counts on graphs built here, Pillow's own PNG and JPEG bytes, Python's
`json` and `base64` reading the data back, and the `<script>` text as a browser's HTML
tokenizer sees it (no `</` can close it).
"""

from __future__ import annotations

import base64
import io
import json

import pytest
from conftest import require_module

from netdraw.backends.html.model import _json_safe, image_uri, page_model, script_json
from netdraw.errors import NetdrawError
from netdraw.ir import Graph, Node, TensorSpec
from netdraw.passes.view import ViewOptions

Image = require_module("PIL.Image")


def picture(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2, 2), (255, 0, 0)).save(out, fmt)
    return out.getvalue()


def test_images_become_data_uris():
    png, jpeg = picture("PNG"), picture("JPEG")
    uri = image_uri(png)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == png
    assert image_uri(bytearray(jpeg)).startswith("data:image/jpeg;base64,")
    assert base64.b64decode(image_uri(memoryview(jpeg)).split(",", 1)[1]) == jpeg
    good = "data:image/webp;base64," + base64.b64encode(b"RIFF").decode()
    assert image_uri(good) is good
    assert image_uri("data:image/gif;base64,") == "data:image/gif;base64,"
    for bad in (b"GIF89a", b"", "data:image/svg+xml;base64,PHN2Zz4=",
                "data:image/png,plain", "data:image/png;base64,***",
                "image/png;base64,AAAA", "http://x/y.png", 3, None):
        with pytest.raises(NetdrawError, match=r"an activation thumbnail must be PNG or JPEG "
                                               r"bytes or a data:image/png;base64,… URI"):
            image_uri(bad)


def test_json_for_a_script_element():
    data = {"name": "</script><!-- a & b >", "sep": "x\u2028y\u2029z", "n": [1, 2.5]}
    text = script_json(data)
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == data
    assert script_json({"é": "ü"}) == '{"é":"ü"}'  # not ASCII-escaped, no spaces
    with pytest.raises(ValueError):
        script_json({"x": float("nan")})
    safe = _json_safe({1: (2, [3.5, float("nan"), float("inf"), -float("inf")]),
                       "b": True, "n": None, "o": object})
    assert safe == {"1": [2, [3.5, "nan", "inf", "-inf"]], "b": True, "n": None,
                    "o": str(object)}


def graph() -> Graph:
    """in -> enc/a (dense 4->8) -> enc/b (dense 8->8, reads a twice) -> head (dense 8->2)
    -> out; a and b in group enc; MACs 32 on a, none on b."""
    g = Graph("hand")
    t4, t8, t2 = TensorSpec((1, 4)), TensorSpec((1, 8)), TensorSpec((1, 2))
    g.add_node(Node("in", "in", "input", "Input", outputs=[t4]))
    g.add_node(Node("a", "enc.a", "dense", "Linear", {"macs": 32, "units": 8}, 40, [t4],
                    [t8], ("enc",)))
    g.add_node(Node("b", "enc.b", "add", "Add", {"macs": "n*8"}, 0, [t8, t8], [t8],
                    ("enc",)))
    g.add_node(Node("h", "head", "dense", "Linear", {"units": 2, "shape": (1, 2)}, 18,
                    [t8], [t2]))
    g.add_node(Node("out", "out", "output", "Output", inputs=[t2]))
    g.add_edge("in", "a", t4)
    g.add_edge("a", "b", t8)
    g.add_edge("a", "b", t8)
    g.add_edge("b", "h", t8)
    g.add_edge("h", "out", t2)
    g.inputs.append("in")
    g.outputs.append("out")
    g.add_group(("enc",), class_name="Encoder")
    g.validate()
    return g


def test_blocks_sum_their_layers_and_list_crossing_tensors_once():
    data = page_model(graph(), ViewOptions(fold=False), prelayout=False)
    groups = {tuple(gr["path"]): gr for gr in data["groups"]}
    enc, model = groups[("enc",)], groups[()]
    assert enc["params"] == 40 and enc["nodes"] == 2 and enc["macs"] == 32
    assert enc["class"] == "Encoder" and enc["parent"] == 0 and model["parent"] == -1
    shapes = [data["tensors"][t]["shape"] for t in enc["inputs"]]
    assert shapes == [[1, 4]]  # one tensor enters (a reads the input once)
    assert [data["tensors"][t]["shape"] for t in enc["outputs"]] == [[1, 8]]
    # the whole model: every layer but input and output, the tensors from and to them
    # MACs by hand: 4·8 for a, 8·2 for the head (counted by the view), none for the add
    assert model["params"] == 58 and model["nodes"] == 3 and model["macs"] == 48
    assert [data["tensors"][t]["shape"] for t in model["inputs"]] == [[1, 4]]
    assert [data["tensors"][t]["shape"] for t in model["outputs"]] == [[1, 2]]
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes["a"]["macs"] == 32 and nodes["b"]["macs"] is None
    assert "macs" not in nodes["a"]["attrs"] and nodes["h"]["attrs"]["shape"] == [1, 2]
    assert nodes["in"]["io"] and nodes["out"]["io"] and not nodes["a"]["io"]
    assert nodes["a"]["group"] == data["groups"].index(enc) and nodes["h"]["group"] == 0
    assert [data["tensors"][t]["shape"] for t in nodes["b"]["inputs"]] == [[1, 8], [1, 8]]
    # tensors are shared: one entry per distinct spec, its text as printed
    assert sorted(t["text"] for t in data["tensors"]) == ["1×2", "1×4", "1×8"]
    ids = [n["id"] for n in data["nodes"]]
    assert [(ids[s], ids[d], data["tensors"][t]["shape"]) for s, d, t in data["edges"]] == [
        ("in", "a", [1, 4]), ("a", "b", [1, 8]), ("a", "b", [1, 8]), ("b", "h", [1, 8]),
        ("h", "out", [1, 2])]


def test_thumbnails_extra_rows_and_first_view_options():
    png = picture("PNG")
    g = graph()
    data = page_model(g, ViewOptions(fold=False), prelayout=False, rankdir="LR",
                      activations=lambda prepared: {"a": png, "gone": png},
                      extra={"h": {"change": "units 2 → 3", "n": 4}, "a": [("x", 1)],
                             "nowhere": {"k": "v"}},
                      extra_title=7, title="T")
    ids = [n["id"] for n in data["nodes"]]
    assert data["activations"] == {str(ids.index("a")): image_uri(png)}
    assert data["extra"] == {str(ids.index("h")): [["change", "units 2 → 3"], ["n", "4"]],
                             str(ids.index("a")): [["x", "1"]]}
    assert data["extra_title"] == "7" and data["rankdir"] == "LR"
    assert data["first_svg"] is None and data["columns"] == 1 and data["wrap"] is False
    assert data["first_ids"] and data["schema"] == "netdraw.page/1" and data["name"] == "hand"
    plain = page_model(g, ViewOptions(fold=False), prelayout=False)
    assert plain["activations"] == {} and plain["extra"] == {} and plain["wrap"] is True
    assert plain["extra_title"] == "Details"
    direct = page_model(g, ViewOptions(fold=False), prelayout=False,
                        activations={"h": png})
    assert list(direct["activations"]) == [str(ids.index("h"))]


def test_renamed_layers_keep_their_source_name():
    g = graph()
    data = page_model(g, prelayout=False)
    by_id = {n["id"]: n for n in data["nodes"]}
    for nid, entry in by_id.items():
        source = g.nodes.get(nid)
        if source is not None and source.name != entry["name"]:
            assert entry["source_name"] == source.name
        else:
            assert "source_name" not in entry


def test_a_view_is_shown_as_it_is():
    from netdraw.api import view
    g = view(graph(), depth=0)
    data = page_model(g, prelayout=False)
    assert data["state"]["roll"] is False and data["state"]["expand"] == []
    assert data["first_ids"] == list(g.nodes)


#: The page schema's keys (netdraw.page/1) that page.js and view.js read, written out.
NODE_KEYS = {"id", "name", "kind", "op", "group", "params", "macs", "attrs", "inputs",
             "outputs", "io", "dot"}
TENSOR_KEYS = {"shape", "dtype", "layout", "text", "key", "dot"}


def test_the_page_schema_keys_and_edge_labels():
    g = graph()
    g.nodes["a"].outputs = [TensorSpec((1, 8), "float32", "NC")]
    data = page_model(g, ViewOptions(fold=False), prelayout=False)
    assert all(set(n) - {"source_name"} == NODE_KEYS for n in data["nodes"])
    assert all(set(t) == TENSOR_KEYS for t in data["tensors"])
    assert set(data["state"]) == {"depth", "roll", "expand", "collapse"}
    assert {"float32"} <= {t["dtype"] for t in data["tensors"]}
    assert "NC" in {t["layout"] for t in data["tensors"]}
    # each tensor's DOT attributes label the edge with its shape, or not at all
    assert all(f'label="{t["text"]}"' in t["dot"] or t["text"] in t["dot"]
               for t in data["tensors"])
    bare = page_model(g, ViewOptions(fold=False), prelayout=False, edge_labels=False)
    assert all(t["text"] not in t["dot"] for t in bare["tensors"])
    assert all("Linear" in n["dot"] or n["kind"] != "dense" for n in data["nodes"])


def test_the_whole_model_block_is_named_by_its_class():
    g = graph()
    data = page_model(g, ViewOptions(fold=False), prelayout=False)
    assert "Model" in data["groups"][0]["dot"] and "hand" in data["groups"][0]["dot"]
    g.meta["class_name"] = "HandNet"
    data = page_model(g, ViewOptions(fold=False), prelayout=False)
    assert "HandNet" in data["groups"][0]["dot"]


def test_a_shared_module_call_says_so_in_its_block():
    g = graph()
    g.groups[("enc",)].call, g.groups[("enc",)].calls = 2, 2
    data = page_model(g, ViewOptions(fold=False), prelayout=False)
    enc = next(gr for gr in data["groups"] if gr["path"] == ["enc"])
    assert "shared, call 2 of 2" in enc["dot"] or "shared 2/2" in enc["dot"]


def test_the_first_view_is_laid_out_by_dot_with_its_title():
    import xml.etree.ElementTree as ET

    from conftest import require_tool
    require_tool("dot")
    data = page_model(graph(), title="Hand-made <net>")
    svg = ET.fromstring(data["first_svg"])
    texts = {"".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert "Hand-made <net>" in texts
    assert page_model(graph(), prelayout=False)["first_svg"] is None
