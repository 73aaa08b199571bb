"""NN-SVG-style figures (fcnn, lenet, alexnet): real consumers and real geometry.

Every SVG is parsed by an XML parser; a set of them is loaded in headless Chromium (one
browser for the module) with no console error and a non-blank screenshot. Geometry is read
back from the SVG: box thickness against channels, neuron caps, stack counts, U shapes.
"""

from __future__ import annotations

import math
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from functools import cache
from pathlib import Path

import onnx
import pytest
from conftest import assert_one_line_error, cli_env, run_cli
from nnsvg_models import MLP, AlexNet, ResNet18, UNet, to_onnx

import netdraw
from netdraw import zoo
from netdraw.api import view
from netdraw.backends import find_backend, styles
from netdraw.backends.nnsvg.alexnet import AlexNetStyle
from netdraw.backends.nnsvg.base import layout_style
from netdraw.backends.nnsvg.fcnn import FcnnStyle
from netdraw.backends.nnsvg.lenet import LeNetStyle
from netdraw.errors import NetdrawError
from netdraw.figure.items import TENSORS, build_items
from netdraw.figure.themes import THEMES
from netdraw.ir import Graph, Node, TensorSpec

SVG = "{http://www.w3.org/2000/svg}"
STYLES = ("fcnn", "lenet", "alexnet")
STYLE_CLASSES = {"fcnn": FcnnStyle, "lenet": LeNetStyle, "alexnet": AlexNetStyle}
HOSTILE = 'evil " < > & \\ { } % $ # _ ^ ~ \n naïve ∑ 名前 \x01\x1f <script>alert(1)</script>'


# -- models ------------------------------------------------------------------------------


@cache
def exported(name: str) -> Graph:
    """A PyTorch model defined in tests/nnsvg_models.py, exported to ONNX and imported."""
    model, shape = {
        "alexnet": (lambda: AlexNet(hidden=256), (1, 3, 224, 224)),
        "resnet18": (lambda: ResNet18(classes=10), (1, 3, 64, 64)),
        "unet": (UNet, (1, 1, 64, 64)),
        "mlp": (MLP, (1, 784)),
    }[name]
    return netdraw.load(onnx.load_from_string(to_onnx(model(), shape)), name=name)


@cache
def zoo_graph(name: str) -> Graph:
    return zoo.load(name)


def render(graph: Graph, style: str, **options: object) -> str:
    svg = netdraw.render(graph, "svg", style=style, **options)
    assert isinstance(svg, str)
    return svg


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg.encode("utf-8"))
    assert root.tag == f"{SVG}svg"
    box = [float(v) for v in root.get("viewBox").split()]
    assert box[2] > 50 and box[3] > 50
    assert root.get("width").endswith("cm") and root.get("height").endswith("cm")
    return root


def layers(root: ET.Element) -> dict[str, ET.Element]:
    """Layer groups by their data-name (first one wins for repeated names)."""
    out: dict[str, ET.Element] = {}
    for g in root.iter(f"{SVG}g"):
        if "layer" in (g.get("class") or "").split():
            out.setdefault(g.get("data-name"), g)
    return out


def points(element: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in element.get("points").split()]


def extent(pts: list[tuple[float, float]]) -> tuple[float, float]:
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return max(xs) - min(xs), max(ys) - min(ys)


def with_class(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter() if cls in (e.get("class") or "").split()]


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


# -- hand-built IR graphs ----------------------------------------------------------------


def chain(name: str, specs: list[tuple[str, str, dict, tuple]], meta: dict | None = None,
          ) -> Graph:
    """A chain graph: (name, kind, attrs, output shape) per node, the first an input."""
    g = Graph(name)
    g.meta.update(meta or {})
    prev = None
    for i, (nm, kind, attrs, shape) in enumerate(specs):
        spec = TensorSpec(shape, "float32")
        g.add_node(Node(f"n{i}", nm, kind, attrs.pop("op_type", kind.title()), attrs=attrs,
                        outputs=[spec], params=attrs.pop("params", 0) if attrs else 0))
        if prev is not None:
            g.add_edge(prev, f"n{i}", spec)
        prev = f"n{i}"
    g.validate()
    return g


def keras_like() -> Graph:
    """NHWC tensors with a None batch, as the Keras importer writes them."""
    return chain("keras-cnn", [
        ("input", "input", {}, (None, 28, 28, 1)),
        ("conv2d", "conv", {"kernel_size": [3, 3], "op_type": "Conv2D"}, (None, 26, 26, 32)),
        ("max_pooling2d", "pool", {"kernel_size": [2, 2], "stride": [2, 2],
                                   "op_type": "MaxPooling2D"}, (None, 13, 13, 32)),
        ("conv2d_1", "conv", {"kernel_size": [3, 3], "op_type": "Conv2D"}, (None, 11, 11, 64)),
        ("flatten", "flatten", {}, (None, 7744)),
        ("dense", "dense", {"units": 10, "op_type": "Dense"}, (None, 10)),
    ], meta={"framework": "keras"})


def view_shaped() -> Graph:
    """What the view passes make: folded Conv-BN-ReLU heads and rolled blocks (marked as a
    view, so it is drawn as it is)."""
    folded = [{"name": "stem.bn", "kind": "norm", "op_type": "BatchNorm2d"},
              {"name": "stem.relu", "kind": "activation", "op_type": "ReLU"}]
    return chain("view", [
        ("x", "input", {}, (1, 3, 64, 64)),
        ("stem", "conv", {"kernel_size": [3, 3], "stride": [2, 2], "op_type": "Conv2d",
                          "folded": folded, "pattern": "ConvBNAct", "activation": "relu"},
         (1, 32, 32, 32)),
        ("stage1", "block", {"repeat": 3, "nodes": 21, "op_type": "BasicBlock",
                             "params": 55000}, (1, 32, 32, 32)),
        ("stage2", "block", {"repeat": 2, "nodes": 14, "op_type": "BasicBlock"},
         (1, 64, 16, 16)),
        ("pool", "global_pool", {"op_type": "AdaptiveAvgPool2d"}, (1, 64, 1, 1)),
        ("fc", "dense", {"units": 10, "op_type": "Linear"}, (1, 10)),
    ], meta={"view": {"auto": False, "depth": 1}})


def hostile() -> Graph:
    g = chain("graph" + HOSTILE, [
        ("in" + HOSTILE, "input", {}, (1, 3, 8, 8)),
        ("/sc\"ope<1>/" + HOSTILE, "conv", {"kernel_size": [1, 1], "op_type": "Conv<&>"},
         (1, 4, 8, 8)),
        (HOSTILE, "other", {"op_type": HOSTILE}, (1, 4, 8, 8)),
        ("fc" + HOSTILE, "dense", {"units": 3}, (1, 3)),
    ])
    return g


# -- every zoo model, every style --------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("name", list(zoo.ZOO))
def test_every_zoo_model(name: str, style: str) -> None:
    graph = view(zoo_graph(name))  # the default view, as the CLI draws it
    items = build_items(graph, TENSORS).items.values()
    _, fig = layout_style(STYLE_CLASSES[style], graph)
    assert fig.crossings() == []  # no arrow through a glyph or label, no label on another
    root = parse(render(graph, style))
    groups = [g for g in root.iter(f"{SVG}g") if "layer" in (g.get("class") or "").split()]
    assert sorted(g.get("data-kind") for g in groups) == sorted(item.kind for item in items)
    assert "input" in {g.get("data-kind") for g in groups} and len(groups) >= 3
    # Nothing the figure skips (activations, norms, reshapes) is drawn as a layer.
    assert not {g.get("data-kind") for g in groups} & {"activation", "norm", "flatten"}
    assert any(t == graph.name for t in texts(root))


# -- geometry ----------------------------------------------------------------------------


def test_alexnet_more_channels_is_a_deeper_box() -> None:
    graph = exported("alexnet")
    for scale in ("log", "linear"):
        root = parse(render(graph, "alexnet", scale=scale))
        boxes = {}
        for g in layers(root).values():
            fronts = with_class(g, "front")
            if fronts and g.get("data-kind") != "dense":
                c = int(g.get("data-dims").split("@")[0])
                boxes.setdefault(c, extent(points(fronts[0]))[0])
        assert sorted(boxes) == [3, 64, 192, 256, 384]
        thickness = [boxes[c] for c in sorted(boxes)]
        assert thickness == sorted(thickness) and len(set(thickness)) == len(thickness)
        if scale == "linear":  # proportional: 384 channels are twice as thick as 192
            assert boxes[384] / boxes[192] == pytest.approx(2.0, rel=0.02)


def test_alexnet_height_follows_h_and_labels_dims() -> None:
    root = parse(render(exported("alexnet"), "alexnet"))
    named = layers(root)
    height = {n: extent(points(with_class(g, "front")[0]))[1] for n, g in named.items()
              if with_class(g, "front") and g.get("data-kind") != "dense"}
    assert height["input"] > height["features.0"] > height["features.3"] > height["features.6"]
    conv1 = named["features.0"]
    dims = {e.get("class"): "".join(e.itertext()) for e in conv1.iter(f"{SVG}text")}
    assert dims["dim-h"] == "55" and dims["dim-w"] == "55" and dims["dim-c"] == "64"
    # A kernel pyramid joins conv1 to pool1 (3×3 pooling kernel).
    assert len(with_class(root, "pyramid")) >= 4 * 7
    # Dense layers are tall thin bars: far taller than thick.
    w, h = extent(points(with_class(named["classifier.1"], "front")[0]))
    assert h > 5 * w


def test_alexnet_angle_sets_the_receding_edge() -> None:
    graph = exported("alexnet")
    for angle in (20, 60):
        root = parse(render(graph, "alexnet", angle=angle))
        top = points(with_class(layers(root)["features.0"], "top")[0])
        (x1, y1), (x2, y2) = top[1], top[2]  # front-top-right corner -> back-top-right
        assert (y1 - y2) / (x2 - x1) == pytest.approx(math.tan(math.radians(angle)), rel=0.05)


def test_fcnn_caps_a_784_wide_layer_and_labels_it() -> None:
    root = parse(render(exported("mlp"), "fcnn"))
    named = layers(root)
    inp = named["input"]
    circles = with_class(inp, "neuron")
    assert 3 <= len(circles) <= 10
    assert len(with_class(inp, "ellipsis")) == 3
    assert "784" in texts(inp)
    assert len(with_class(named["fc3"], "neuron")) == 10  # 10 units: all drawn, no ellipsis
    assert not with_class(named["fc3"], "ellipsis")
    assert "10" in texts(named["fc3"])
    # Fully connected: 9 drawn inputs × 9 drawn neurons of fc1.
    conns = with_class(root, "connections")[0]
    assert len(list(conns.iter(f"{SVG}line"))) == 9 * 9
    # The cap is an option.
    root = parse(render(exported("mlp"), "fcnn", max_neurons=16))
    assert len(with_class(layers(root)["input"], "neuron")) == 15


def test_lenet_stacks_and_kernels() -> None:
    root = parse(render(zoo_graph("onnx-lenet5"), "lenet"))
    named = layers(root)
    assert len(with_class(named["conv1"], "map")) == 6  # 6 channels: 6 squares
    assert len(with_class(named["conv2"], "map")) == 8  # 16 channels: capped at 8
    assert "6@28×28" in texts(named["conv1"]) and "16@10×10" in texts(named["conv2"])
    assert with_class(named["fc1"], "bar") and "120" in texts(named["fc1"])
    # Kernels: one per conv/pool after the input (conv1, pool1, conv2, pool2).
    kernels = with_class(root, "kernel")
    assert len(kernels) == 4
    side = {n: float(with_class(named[n], "map")[-1].get("width")) for n in ("input", "conv1")}
    assert side["input"] > side["conv1"]  # 32 > 28, log-scaled
    # conv1's 5×5 kernel on the 32×32 input keeps its proportion: 5/32 of the map.
    assert float(kernels[0].get("width")) / side["input"] == pytest.approx(5 / 32, rel=0.02)


def test_residual_skips_are_arcs_and_downsample_a_lane() -> None:
    graph = exported("resnet18")
    for style in STYLES:
        root = parse(render(graph, style, full=True))  # every block drawn
        assert len(with_class(root, "skip")) == 5  # identity shortcuts of 8 blocks minus 3
        merges = [g for g in layers(root).values() if g.get("data-kind") == "add"]
        assert merges
        y_of = {}
        for g in root.iter(f"{SVG}g"):
            if "layer" in (g.get("class") or "").split():
                y_of.setdefault(g.get("data-name"), []).append(_centre_y(g))
        main_y = y_of["conv1"][0]
        ds = y_of["downsample.0"]
        assert len(ds) == 3 and all(y > main_y + 20 for y in ds)
        assert with_class(root, "layers")[0].get("data-layout") == "lanes"


def test_unet_is_drawn_as_a_u() -> None:
    graph = exported("unet")
    for style in STYLES:
        root = parse(render(graph, style, depth=2))  # every layer, all labels
        assert with_class(root, "layers")[0].get("data-layout") == "u"
        named = layers(root)
        y = {n: _centre_y(g) for n, g in named.items()}
        top, bottom, end = y["inc.0"], y["down3.0"], y["head"]
        assert bottom > top + 60  # the encoder descends three levels…
        assert end == pytest.approx(top, abs=1)  # …and the decoder climbs back
        assert y["dec3.0"] == pytest.approx(y["down2.0"], abs=1)  # levels line up
        assert len(with_class(root, "skip")) == 3  # one copy-and-concat per level
        assert sum(1 for g in named.values() if g.get("data-kind") == "concat") == 3


def test_inception_branches_get_their_own_rows() -> None:
    root = parse(render(zoo_graph("onnx-inception"), "lenet"))
    rows = {round(_centre_y(g)) for g in with_class(root, "layer")
            if g.get("data-kind") in ("conv", "pool")}
    assert len(rows) == 4
    assert len(with_class(root, "merge")) == 1


def _centre_y(g: ET.Element) -> float:
    ys = []
    for e in g.iter():
        if e.tag == f"{SVG}rect":
            ys += [float(e.get("y")), float(e.get("y")) + float(e.get("height"))]
        elif e.tag == f"{SVG}circle":
            ys.append(float(e.get("cy")))
        elif e.tag == f"{SVG}polygon" and e.get("class") in ("front", "bar"):
            ys += [p[1] for p in points(e)]
    return (min(ys) + max(ys)) / 2


# -- shapes, views, hostile input --------------------------------------------------------


def test_keras_channels_last_shapes() -> None:
    for style in STYLES:
        named = layers(parse(render(keras_like(), style)))
        assert named["conv2d"].get("data-dims") == "32@26×26"
        assert named["max_pooling2d"].get("data-dims") == "32@13×13"
        assert named["input"].get("data-dims") == "1@28×28"
        assert named["dense"].get("data-dims") == "10"
        assert "flatten" not in named


def test_view_nodes_blocks_and_folds() -> None:
    graph = view_shaped()
    for style in STYLES:
        root = parse(render(graph, style))
        named = layers(root)
        assert named["stage1"].get("data-kind") == "block"
        if style != "fcnn":
            assert "BasicBlock ×3" in texts(named["stage1"])
        tooltip = "".join(named["stem"].find(f"{SVG}title").itertext())
        assert "Conv2d + BatchNorm2d + ReLU" in tooltip
        assert named["pool"].get("data-dims") == "64"  # 1×1 maps are a vector
    root = parse(render(graph, "alexnet"))
    assert with_class(layers(root)["stage1"], "repeat")  # rolled run: a box behind


def test_collapse_depth_draws_blocks() -> None:
    graph = zoo_graph("onnx-resnet")
    root = parse(netdraw.render(graph, "svg", style="alexnet", depth=1))
    blocks = [n for n, g in layers(root).items() if g.get("data-kind") == "block"]
    assert blocks == ["stem", "layer1", "layer2"]
    assert not with_class(root, "merge") and not with_class(root, "skip")


def test_default_view_rolls_and_folds() -> None:
    """The diagram's default view (depth 3) as a figure: ResNet-18's identical layer1
    blocks rolled into one ×2 layer, every Conv-BN-ReLU folded into its convolution."""
    graph = exported("resnet18")
    for style in STYLES:
        root = parse(render(graph, style, depth=3, width="40cm"))
        named = layers(root)
        rolled = [g for g in named.values() if g.get("data-kind") == "block"]
        assert len(rolled) == 1 and rolled[0].get("data-dims") == "64@16×16"  # 64×64 input
        assert "×2" in "".join(texts(rolled[0]))
        assert not {g.get("data-kind") for g in named.values()} & {"norm", "activation"}
        assert len(with_class(root, "skip")) == 3  # layer2-4's second blocks
        if style == "alexnet":
            assert with_class(rolled[0], "repeat")
        conv1 = named["conv1"]
        # The exporter already merged BN into the conv; the view folded the ReLU.
        assert "(Conv + Relu)" in "".join(conv1.find(f"{SVG}title").itertext())


def test_hostile_names_are_escaped() -> None:
    for style in STYLES:
        svg = render(hostile(), style)
        root = parse(svg)  # parses: every string was escaped
        assert "<script>" not in svg and "\x01" not in svg
        assert any("<script>alert(1)</script>" in t for t in texts(root))
        title = "".join(root.find(f"{SVG}title").itertext())
        assert title.startswith("graphevil \" < > & \\ { }")


def test_deterministic_bytes(tmp_path: Path) -> None:
    graph = zoo_graph("onnx-resnet")
    for style in STYLES:
        assert render(graph, style) == render(graph.copy(), style)
    outs = []
    for k in range(2):
        out = tmp_path / f"r{k}.svg"
        proc = run_cli("zoo:onnx-inception", "-o", str(out), "--style", "alexnet")
        assert proc.returncode == 0, proc.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_options() -> None:
    graph = zoo_graph("onnx-lenet5")
    root = parse(render(graph, "lenet", labels=False, legend=False, title=""))
    assert texts(root) == [] and not with_class(root, "legend")
    root = parse(render(graph, "alexnet", colors="mono,conv=#123456"))
    front = with_class(layers(root)["conv1"], "front")[0]
    assert front.get("fill") == "#123456"
    grey = "#" + THEMES["greyscale"]["input"].lower()  # mono is the greyscale theme
    assert with_class(layers(root)["input"], "front")[0].get("fill") == grey
    legend = with_class(root, "legend")[0]
    assert "Convolution" in texts(legend) and "Fully connected" in texts(legend)
    narrow, wide = (layout_style(LeNetStyle, view(graph), spacing=k)[1].bounds()
                    for k in (1, 3))
    assert wide[2] - wide[0] > narrow[2] - narrow[0] + 300  # one row, gaps three times
    for bad, message in (({"scale": "cubic"}, "--scale"), ({"angle": 95}, "--angle"),
                         ({"colors": "conv=url(#x)"}, "colour"),
                         ({"colors": "nosuchkind=#fff"}, "unknown kind"),
                         ({"spacing": "wide"}, "--spacing")):
        with pytest.raises(NetdrawError, match=message):
            render(graph, "fcnn", **bad)


def test_empty_graph_is_an_error() -> None:
    with pytest.raises(NetdrawError, match="no layers"):
        render(Graph("empty"), "lenet")


def test_registry_and_default_svg() -> None:
    assert styles()[:4] == ["graph", "fcnn", "lenet", "alexnet"]
    assert find_backend("svg").name == "graphviz"  # Graphviz stays the default for .svg
    assert find_backend("svg", "graph").name == "graphviz"
    assert find_backend("svg", "alexnet").module.endswith("nnsvg.alexnet")
    with pytest.raises(NetdrawError, match="cannot write .png"):
        find_backend("png", "lenet")


# -- the command line --------------------------------------------------------------------


def test_cli_styles_and_errors(tmp_path: Path) -> None:
    model = tmp_path / "mlp.onnx"
    model.write_bytes(to_onnx(MLP(), (1, 784)))
    out = tmp_path / "fig.svg"
    proc = run_cli("draw", str(model), "-o", str(out), "--style", "fcnn", "--no-legend",
                "--spacing", "1.5", "--colors", "dense=#ff8800")
    assert proc.returncode == 0, proc.stderr
    root = parse(out.read_text())
    assert not with_class(root, "legend")
    assert with_class(layers(root)["fc1"], "neuron")[0].get("fill") == "#ff8800"
    proc = run_cli(str(model), "-o", str(tmp_path / "default.svg"))  # no --style: Graphviz
    assert proc.returncode == 0, proc.stderr
    assert "graphviz" in (tmp_path / "default.svg").read_text().lower()
    for args, fragment in ((["--style", "cubist"], "unknown style"),
                           (["--style", "lenet", "--angle", "x"], "--angle"),
                           (["--style", "lenet", "--colors", "conv=#12"], "colour")):
        bad = tmp_path / "bad.svg"
        assert_one_line_error(run_cli(str(model), "-o", str(bad), *args), fragment)
        assert not bad.exists()
    proc = run_cli(str(model), "-o", str(tmp_path / "x.png"), "--style", "alexnet")
    assert_one_line_error(proc, "writes .svg")
    proc = run_cli(str(model), "-o", "-", "--style", "lenet")  # stdout: the style's SVG
    assert proc.returncode == 0, proc.stderr
    assert layers(parse(proc.stdout))["fc2"].get("data-dims") == "64"


def test_figure_styles_import_no_framework(tmp_path: Path) -> None:
    model = tmp_path / "lenet.onnx"
    onnx.save(zoo.build("onnx-lenet5"), str(model))
    code = ("import sys; from netdraw.cli import main; "
            f"rc = [main([{str(model)!r}, '-o', {str(tmp_path / 'f.svg')!r}, '--style', s]) "
            "for s in ('fcnn', 'lenet', 'alexnet')]; "
            "assert rc == [0, 0, 0], rc; "
            "assert not {'torch', 'keras', 'tensorflow'} & set(sys.modules), 'framework imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=cli_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_json_importer_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "keras.json"
    path.write_text(keras_like().to_json())
    out = tmp_path / "k.svg"
    proc = run_cli(str(path), "-o", str(out), "--style", "lenet")
    assert proc.returncode == 0, proc.stderr
    assert layers(parse(out.read_text()))["conv2d_1"].get("data-dims") == "64@11×11"


def test_gallery_writes_figure_styles(tmp_path: Path) -> None:
    from netdraw.gallery import FIGURE_MODELS, render_gallery

    assert {"lenet5", "alexnet", "resnet18"} <= set(FIGURE_MODELS)
    lines = list(render_gallery(tmp_path, ["onnx-lenet5"]))
    for style in STYLES:
        assert f"wrote {tmp_path / f'onnx-lenet5.{style}.svg'}" in lines
        parse((tmp_path / f"onnx-lenet5.{style}.svg").read_text())


# -- Chromium ----------------------------------------------------------------------------


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) into rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and colour in (2, 6) and interlace == 0
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for r in range(height):
        f, line = raw[r * (stride + 1)], bytearray(raw[r * (stride + 1) + 1:(r + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([bytes(line[k:k + 3]) for k in range(0, stride, bpp)])
        prev = line
    return width, height, rows


CHROMIUM_CASES = [
    *[("zoo", n, s) for n in ("onnx-lenet5", "onnx-resnet", "onnx-inception") for s in STYLES],
    *[("torch", n, s) for n in ("alexnet", "resnet18", "unet", "mlp") for s in STYLES],
    *[("ir", "keras", s) for s in STYLES], ("ir", "hostile", "alexnet"),
]


@pytest.mark.parametrize(("source", "name", "style"), CHROMIUM_CASES)
def test_chromium_renders(browser, tmp_path: Path, source: str, name: str, style: str) -> None:
    graph = {"zoo": zoo_graph, "torch": exported,
             "ir": lambda n: keras_like() if n == "keras" else hostile()}[source](name)
    path = tmp_path / f"{name}.{style}.svg"
    path.write_text(render(graph, style), encoding="utf-8")
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    box = page.evaluate("(() => { const b = document.documentElement.getBBox();"
                        " return [b.width, b.height]; })()")
    # Shrink to at most 640 px wide (the viewBox scales the drawing) to keep decoding quick.
    page.evaluate("(() => { const s = document.documentElement;"
                  " const w = s.viewBox.baseVal.width, h = s.viewBox.baseVal.height;"
                  " const k = Math.min(1, 640 / w, 640 / h);"
                  " s.setAttribute('width', w * k); s.setAttribute('height', h * k); })()")
    shot = page.locator("svg").screenshot()
    page.close()
    assert not errors
    assert box[0] > 50 and box[1] > 50
    width, height, rows = png_pixels(shot)
    assert width <= 641
    sample = [px for row in rows for px in row]
    ink = sum(1 for px in sample if min(px) < 200)
    colours = {px for px in sample}
    assert ink / len(sample) > 0.01, "screenshot is blank"
    assert len(colours) > 8


def test_nothing_writes_outside_svg_text() -> None:
    """Numbers in the SVG have at most two decimals (small files, stable bytes)."""
    svg = render(exported("resnet18"), "alexnet")
    assert not re.search(r"\d\.\d{3,}", svg)


_GEOMETRY_JS = """() => {
  const texts = Array.from(document.querySelectorAll('text')).map(t => {
    const b = t.getBBox(); return [b.x, b.y, b.width, b.height, t.textContent]; });
  const shapes = [];
  for (const e of document.querySelectorAll('g.layer rect, g.layer circle, g.layer polygon')) {
    if (e.tagName === 'rect') {
      const x = +e.getAttribute('x'), y = +e.getAttribute('y');
      const w = +e.getAttribute('width'), h = +e.getAttribute('height');
      shapes.push([[x, y], [x + w, y], [x + w, y + h], [x, y + h]]);
    } else if (e.tagName === 'circle') {
      const cx = +e.getAttribute('cx'), cy = +e.getAttribute('cy'), r = +e.getAttribute('r');
      const pts = [];
      for (let k = 0; k < 16; k++) {
        pts.push([cx + r * Math.cos(k * Math.PI / 8), cy + r * Math.sin(k * Math.PI / 8)]);
      }
      shapes.push(pts);
    } else {
      shapes.push(Array.from(e.points).map(p => [p.x, p.y]));
    }
  }
  return [texts, shapes];
}"""


@pytest.mark.parametrize(("source", "name", "style", "width"), [
    *[("torch", "resnet18", s, w) for s in STYLES for w in ("text", "40cm")],
    ("torch", "unet", "alexnet", "text"), ("zoo", "onnx-inception", "lenet", "text"),
    ("ir", "keras", "alexnet", "text"), ("zoo", "onnx-resnet", "fcnn", "column"),
])
def test_chromium_text_is_clear_of_glyphs_and_other_text(
        browser, tmp_path: Path, source: str, name: str, style: str, width: str) -> None:
    """Where Chromium really draws every label (getBBox of each text), no label touches
    another or a glyph: the layout's text measures hold in a real browser."""
    from netdraw.figure.geometry import polygons_overlap, rect, shrink

    graph = {"zoo": zoo_graph, "torch": exported, "ir": lambda n: keras_like()}[source](name)
    path = tmp_path / "f.svg"
    path.write_text(render(graph, style, width=width), encoding="utf-8")
    page = browser.new_page()
    page.goto(path.as_uri())
    texts, shapes = page.evaluate(_GEOMETRY_JS)
    page.close()
    boxes = [(t[4], shrink(rect(t[0], t[1], t[0] + t[2], t[1] + t[3]), 1.0)) for t in texts]
    assert len(boxes) > 5 and len(shapes) > 10
    for i, (text, box) in enumerate(boxes):
        for other, obox in boxes[i + 1:]:
            assert not polygons_overlap(box, obox), (text, other)
        for shape in shapes:
            assert not polygons_overlap(box, shape), (text, shape)
