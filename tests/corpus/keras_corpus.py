"""The keras.applications corpus: every model the installed Keras offers, drawn by netdraw
and checked against Keras' own numbers.

The models are enumerated from ``keras.applications`` (a newer Keras adds its models) and
built with ``weights=None`` on Keras' ``meta`` device: the torch backend then makes every
variable with its shape but no memory and no random initialisation, so ConvNeXtXLarge's
350 M parameters cost nothing and a model builds in about a second (its weights'
initialisation took 10-40 s a model on the 2-core test machine). Keras still computes every
output shape and ``count_params()``, the oracles here.

Each model is drawn twice: live (``netdraw.load(model)``) and from a ``.keras`` archive
holding the genuine ``config.json`` and ``metadata.json`` Keras' own saver writes
(``saving_lib._serialize_model_as_json``), without the weights file: netdraw reads only the
config unless a layer's weights cannot be counted from it (see
``netdraw/importers/keras_weights.py``). ``test_keras_saved_files.py`` saves a sample for
real (``model.save`` to ``.keras`` and ``.h5`` with their weights).

The checks, one test function each in ``test_keras_corpus_*.py``:

- ``loads``: both graphs load, one node per layer call;
- ``params_live`` / ``params_file``: the total equals ``model.count_params()`` exactly;
- ``styles``: every style renders: Graphviz SVG through ``dot``, the NN-SVG looks ``fcnn``,
  ``lenet`` and ``alexnet``, TikZ ``.tex``, the HTML page (parsed; a sample goes through
  ``pdflatex`` and Chromium in ``test_keras_saved_files.py``);
- ``view``: the default view has at most 40 nodes and names its blocks after the layers
  (no ``block 3`` made up by the structural fallback);
- ``chw``: every conv-like layer (convolutions, poolings, and a Dense on a 4-D tensor) is
  drawn by the ``lenet`` look with the C, H and W of Keras' channels-last output shape.

Known failures are :data:`KNOWN`, each with its reason; the tests mark them
``xfail(strict=True)``. ``python tests/corpus/keras_corpus.py --write-readme`` runs every
check and writes the table in ``tests/README.md``.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
import time
import warnings
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported

import keras  # noqa: E402
import pytest  # noqa: E402

import netdraw  # noqa: E402
from netdraw.passes import make_view  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
MAX_NODES = 40
CHECKS = ("loads", "params_live", "params_file", "styles", "view", "chw")
#: Models Keras cannot build here, and why: their ``loads`` test expects the error; they
#: have no other checks.
UNBUILDABLE: dict[str, str] = {
    "NASNetMobile": "Keras refuses it on the torch backend (ValueError: 'not available with "
                    "the torch backend at this time due to an outstanding bug')",
}
#: (model, check) -> why it fails; the tests expect exactly these to fail.
KNOWN: dict[tuple[str, str], str] = {}
#: The NN-SVG and TikZ figure styles (format, style).
STYLES = (("svg", None), ("svg", "fcnn"), ("svg", "lenet"), ("svg", "alexnet"),
          ("tex", "tikz"), ("html", None))
_CONV_LIKE = re.compile(r"Conv|Pooling")


def applications() -> list[str]:
    """Every model ``keras.applications`` offers, by name, sorted."""
    names = []
    for name, value in vars(keras.applications).items():
        if name[:1].isupper() and inspect.isfunction(value):
            names.append(name)
    return sorted(names)


def share(part: int, parts: int) -> list[str]:
    """Every ``parts``-th model from ``part`` on: a test file's share of the corpus."""
    return applications()[part::parts]


def build(name: str) -> keras.Model:
    """The application with ``weights=None``, its variables on the ``meta`` device."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with keras.device("meta"):
            return getattr(keras.applications, name)(weights=None)


def config_archive(model: keras.Model, path: Path) -> Path:
    """A ``.keras`` archive of the model's genuine config and metadata, without weights."""
    from keras.src.saving import saving_lib

    config_json, metadata_json = saving_lib._serialize_model_as_json(model)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", metadata_json)
        archive.writestr("config.json", config_json)
    return path


def layers(model: keras.Model) -> list[Any]:
    """Every layer, nested models' layers in their place (not the models themselves)."""
    out = []
    for layer in model.layers:
        out.extend(layers(layer) if isinstance(layer, keras.Model) else [layer])
    return out


def expected_dims(layer: Any) -> str | None:
    """``C@H×W`` (``C`` when 1×1) of a conv-like layer's output, channels-last as Keras
    computes it; None for other layers."""
    shape = tuple(layer.output.shape)
    cls = type(layer).__name__
    conv_like = (_CONV_LIKE.search(cls) and "Global" not in cls) or cls == "Dense"
    if len(shape) != 4 or not conv_like:
        return None
    if layer.get_config().get("data_format") == "channels_first":
        _, c, h, w = shape
    else:
        _, h, w, c = shape
    if (h, w) == (1, 1):
        return f"{c}"
    return f"{c}@{'?' if h is None else h}×{'?' if w is None else w}"  # None: any size


@dataclass
class Entry:
    """One model of the corpus, built and loaded once."""

    name: str
    model: keras.Model
    live: netdraw.Graph
    file: netdraw.Graph
    seconds: float
    notes: dict[str, Any] = field(default_factory=dict)


class Corpus:
    """Builds each model at most once; ``folder`` holds the ``.keras`` archives."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.entries: dict[str, Entry] = {}

    def get(self, name: str) -> Entry:
        if name not in self.entries:
            start = time.perf_counter()
            model = build(name)
            path = config_archive(model, self.folder / f"{name}.keras")
            live, file = netdraw.load(model), netdraw.load(path)
            self.entries[name] = Entry(name, model, live, file, time.perf_counter() - start)
        return self.entries[name]


# -- the checks (each raises AssertionError with what differs) -------------------------


def calls(model: keras.Model, top: bool = True) -> int:
    """How many nodes the model is: one per operation (a layer, or a ``keras.ops`` call
    such as ConvNeXt's ``x + y``), a nested model's in its place without its input layer."""
    operations = model.operations if hasattr(model, "operations") else model.layers
    count = 0
    for op in operations:
        if isinstance(op, keras.Model):
            count += calls(op, top=False)
        elif top or not isinstance(op, keras.layers.InputLayer):
            count += 1
    return count


def check_loads(entry: Entry) -> None:
    count = calls(entry.model) + len(entry.model.outputs)
    for graph in (entry.live, entry.file):
        assert len(graph) == count, (len(graph), count)
        (out,) = graph.outputs
        assert graph.nodes[out].outputs[0].shape == tuple(entry.model.output_shape)


def check_params_live(entry: Entry) -> None:
    assert entry.live.total_params == entry.model.count_params(), \
        (entry.live.total_params, entry.model.count_params())


def check_params_file(entry: Entry) -> None:
    assert entry.file.total_params == entry.model.count_params(), \
        (entry.file.total_params, entry.model.count_params())
    assert "uncounted_params" not in entry.file.meta, entry.file.meta["uncounted_params"]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)


def render_all(graph: netdraw.Graph) -> dict[str, str]:
    """Every style's text output, each checked by a parser for its format."""
    out = {}
    for fmt, style in STYLES:
        text = netdraw.render(graph, fmt, style=style)
        assert isinstance(text, str) and text, (fmt, style)
        key = style or fmt
        if fmt == "svg":
            root = ET.fromstring(text)
            assert root.tag == f"{SVG}svg", key
            if style is None:  # Graphviz laid it out: one <g class="node"> per view node
                drawn = [g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]
                assert drawn, key
        elif fmt == "tex":
            assert "\\begin{tikzpicture}" in text and text.rstrip().endswith("\\end{document}")
        else:
            parser = _Tags()
            parser.feed(text)
            assert {"html", "script"} <= set(parser.tags), key
        out[key] = text
    return out


def check_styles(entry: Entry) -> None:
    render_all(entry.file)
    netdraw.render(entry.live, "svg")  # the live graph through dot as well


def default_view(graph: netdraw.Graph) -> netdraw.Graph:
    return make_view(graph)


def check_view(entry: Entry) -> None:
    for graph in (entry.live, entry.file):
        view = default_view(graph)
        assert len(view) <= MAX_NODES, f"{len(view)} nodes in the default view"
        made_up = [n.name for n in view if re.fullmatch(r"block \d+(\.\d+)?", n.name)]
        assert not made_up, f"blocks without a layer name: {made_up}"


def drawn_dims(svg: str) -> dict[str, str]:
    """Layer name -> the ``data-dims`` the NN-SVG look wrote for it."""
    out: dict[str, str] = {}
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        if "layer" in (g.get("class") or "").split() and g.get("data-name"):
            out.setdefault(g.get("data-name"), g.get("data-dims"))
    return out


def check_chw(entry: Entry) -> int:
    """Compare every conv-like layer; returns how many were compared."""
    drawn = drawn_dims(netdraw.render(entry.file, "svg", style="lenet", full=True))
    wrong, compared = [], 0
    for layer in layers(entry.model):
        expected = expected_dims(layer)
        if expected is None:
            continue
        compared += 1
        if drawn.get(layer.name) != expected:
            wrong.append(f"{layer.name}: drawn {drawn.get(layer.name)}, Keras {expected}")
    assert compared and not wrong, f"{len(wrong)} of {compared} differ: {wrong[:3]}"
    return compared


CHECK_FUNCTIONS = {"loads": check_loads, "params_live": check_params_live,
                   "params_file": check_params_file, "styles": check_styles,
                   "view": check_view, "chw": check_chw}


class CorpusChecks:
    """The corpus checks as pytest tests, one per check and model; a test file subclasses
    it as ``Test…`` with its share of the models in ``names``. Each model is built once per
    class (``corpus``); known failures are ``xfail(strict=True)`` with their reason."""

    names: list[str] = []

    def pytest_generate_tests(self, metafunc: Any) -> None:
        check = metafunc.function.__name__.removeprefix("test_")
        params = []
        for name in self.names:
            if name in UNBUILDABLE:
                if check == "loads":
                    params.append(pytest.param(name, marks=pytest.mark.xfail(
                        strict=True, raises=ValueError, reason=UNBUILDABLE[name])))
                continue
            reason = KNOWN.get((name, check))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(name, marks=marks))
        metafunc.parametrize("name", params)

    @pytest.fixture(scope="class")
    def corpus(self, tmp_path_factory: Any) -> Corpus:
        return Corpus(tmp_path_factory.mktemp("keras_corpus"))

    def test_loads(self, corpus: Corpus, name: str) -> None:
        check_loads(corpus.get(name))

    def test_params_live(self, corpus: Corpus, name: str) -> None:
        check_params_live(corpus.get(name))

    def test_params_file(self, corpus: Corpus, name: str) -> None:
        check_params_file(corpus.get(name))

    def test_styles(self, corpus: Corpus, name: str) -> None:
        check_styles(corpus.get(name))

    def test_view(self, corpus: Corpus, name: str) -> None:
        check_view(corpus.get(name))

    def test_chw(self, corpus: Corpus, name: str) -> None:
        check_chw(corpus.get(name))


# -- the table in tests/README.md --------------------------------------------------------

BEGIN = "<!-- keras-corpus: generated by python tests/corpus/keras_corpus.py --write-readme -->"
END = "<!-- keras-corpus: end -->"


def _row(name: str, corpus: Corpus) -> tuple[list[str], dict[str, str]]:
    """One table row and the reasons of its failures."""
    failures: dict[str, str] = {}
    try:
        entry = corpus.get(name)
    except Exception as exc:  # noqa: BLE001 - the table records why
        reason = UNBUILDABLE.get(name, f"{type(exc).__name__}: {exc}")
        return [f"`{name}`", "–", "–", "✗"] + ["–"] * 5, {"cannot be built": reason}
    results = {}
    for check in CHECKS:
        try:
            value = CHECK_FUNCTIONS[check](entry)
            results[check] = "✓" + (f" ({value})" if check == "chw" else "")
        except AssertionError as exc:
            results[check] = "✗"
            failures[check] = KNOWN.get((name, check), " ".join(str(exc).split())[:160])
    view = default_view(entry.file)
    cells = [f"`{name}`", f"{entry.model.count_params():,}", str(len(entry.file)),
             results["loads"], results["params_live"], results["params_file"],
             results["styles"], f"{results['view'][0]} {len(view)}", results["chw"]]
    return cells, failures


INTRO = (
    "Every model `keras.applications` offers (enumerated, not listed), `weights=None`, built",
    "on Keras' `meta` device. *params file* reads a `.keras` archive of the model's genuine",
    "`config.json` and `metadata.json` without the weights (ConvNeXtXLarge's full file is",
    "1.4 GB); `test_keras_samples.py` also saves MobileNetV3Small and ConvNeXtTiny for real",
    "(`.keras` and `.h5`, weights included) and checks every layer, compiles TikZ with",
    "`pdflatex` and opens the HTML page in Chromium. *styles*: Graphviz SVG through `dot`,",
    "`fcnn`, `lenet`, `alexnet`, TikZ, HTML. *C/H/W*: the `lenet` look's drawn dims of every",
    "convolution, pooling and 4-D Dense against Keras' channels-last output shapes.",
)


def table() -> str:
    """The Markdown table of the whole corpus (runs every check; a few minutes)."""
    import tempfile

    header = ("| model | Keras params | nodes | loads | params live | params file "
              "| styles | default view (nodes) | C/H/W (layers compared) |")
    lines = [header, "| " + " | ".join(["---"] * 9) + " |"]
    notes = []
    with tempfile.TemporaryDirectory() as folder:
        corpus = Corpus(Path(folder))
        for name in applications():
            cells, failures = _row(name, corpus)
            lines.append("| " + " | ".join(cells) + " |")
            notes += [f"- `{name}`, {check}: {reason}" for check, reason in failures.items()]
            corpus.entries.pop(name, None)
    passed = {c: 0 for c in CHECKS}
    for line in lines[2:]:
        cells = line.strip("| ").split(" | ")
        for check, cell in zip(CHECKS, cells[3:9], strict=True):
            passed[check] += cell.startswith("✓")
    total = len(lines) - 2
    summary = ", ".join(f"{check} {passed[check]}/{total}" for check in CHECKS)
    return "\n".join([f"Keras {keras.__version__}, {total} models: {summary}.", "",
                      *INTRO, "", *lines, "", "Exceptions:", "", *(notes or ["- none"])])


def write_readme(readme: Path) -> None:
    text = readme.read_text(encoding="utf-8")
    block = f"{BEGIN}\n\n{table()}\n\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Keras applications corpus\n\n" + block + "\n"
    readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write-readme"]:
        raise SystemExit("usage: python tests/corpus/keras_corpus.py --write-readme")
    write_readme(Path(__file__).resolve().parents[1] / "README.md")
