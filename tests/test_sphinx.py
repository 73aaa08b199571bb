"""The Sphinx extension on a tiny project: HTML and LaTeX builders, MyST, the cache, a broken
model, a parallel build.

Each build is a real ``python -m sphinx`` run. The figures are checked by their consumers
(an XML parser for the SVG, ``pdflatex`` for the LaTeX output and ``pdftotext`` for what it
printed); the expected layer names and parameter total come from the ONNX file itself.
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import cli_env, require_module

onnx = require_module("onnx")
require_module("sphinx")
require_module("myst_parser")

CONF = '''\
project = "tiny"
extensions = ["netdraw.sphinx", "myst_parser"]
numfig = True
latex_elements = {"fontpkg": ""}  # Sphinx's default TeX Gyre fonts need another package
'''

INDEX = '''\
Tiny
====

.. netdraw:: models/net.onnx
   :depth: 1
   :caption: The small ResNet, drawn from its file.
   :name: fig-net
   :summary:

See :numref:`fig-net`.

.. netdraw:: zoo:onnx-lenet5
   :style: tikz
   :width: 80%

.. netdraw:: models/broken.onnx
   :depth: 2

.. toctree::

   page
'''

PAGE = '''\
# A Markdown page

```{netdraw} models/net.onnx
:rankdir: LR
:alt: the network sideways
```
'''


def sphinx(src: Path, out: Path, builder: str = "html", *extra: str
           ) -> subprocess.CompletedProcess[str]:
    env = cli_env()
    env["NETDRAW_CONFIG"] = ""
    # --no-color: Sphinx colours its output when the environment says CI, and the tests
    # read that output as text.
    return subprocess.run([sys.executable, "-m", "sphinx", "--no-color", "-b", builder, *extra,
                           str(src), str(out)], capture_output=True, text=True, env=env,
                          timeout=900)


def warnings(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [ln for ln in proc.stderr.splitlines() if "WARNING" in ln or "ERROR" in ln]


def make_project(folder: Path, pages: int = 0) -> Path:
    from netdraw.zoo.onnx_models import small_resnet

    (folder / "models").mkdir(parents=True)
    onnx.save(small_resnet(), folder / "models" / "net.onnx")
    (folder / "models" / "broken.onnx").write_bytes(b"\x08\x07 truncated")
    (folder / "conf.py").write_text(CONF)
    (folder / "index.rst").write_text(INDEX)
    (folder / "page.md").write_text(PAGE)
    return folder


def initializer_total(path: Path) -> int:
    """The model's parameter count, from ONNX itself."""
    import numpy as np
    from onnx import numpy_helper

    model = onnx.load(path)
    return sum(int(np.prod(numpy_helper.to_array(t).shape)) for t in model.graph.initializer
               if t.data_type == onnx.TensorProto.FLOAT)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    src = make_project(tmp_path_factory.mktemp("tiny"))
    proc = sphinx(src, src / "_build" / "html")
    return src, proc


def _images(html: str) -> list[str]:
    return re.findall(r'<img class="netdraw[^"]*" src="([^"]+)" alt="([^"]*)"', html)


def test_html_has_the_figures_and_one_warning_for_the_broken_model(built):
    src, proc = built
    assert proc.returncode == 0, proc.stderr
    (warning,) = warnings(proc)
    line = INDEX.splitlines().index(".. netdraw:: models/broken.onnx") + 1
    assert f"{src / 'index.rst'}:{line}:" in warning, warning
    assert "broken.onnx" in warning and "not a valid ONNX model" in warning
    out = src / "_build" / "html"
    index = (out / "index.html").read_text()
    images = _images(index)
    assert len(images) == 2, images  # the broken model draws nothing
    svg = ET.parse(out / images[0][0])
    texts = {t.text for t in svg.iter() if t.tag.endswith("text") and t.text}
    model = onnx.load(src / "models" / "net.onnx")
    assert {"layer1", "layer2"} <= texts, texts  # --depth 1: the model's top-level scopes
    assert any(n.name.startswith("/layer1/") for n in model.graph.node)
    assert (out / images[1][0]).read_bytes().startswith(b"\x89PNG")  # TikZ on the web
    assert "The small ResNet, drawn from its file." in index
    assert f"{initializer_total(src / 'models' / 'net.onnx'):,}" in index  # :summary:
    page = (out / "page.html").read_text()
    ((uri, alt),) = _images(page)
    assert alt == "the network sideways"
    root = ET.parse(out / uri).getroot()
    assert root.tag.endswith("svg")


def test_a_second_build_renders_nothing(built):
    src, _ = built
    cache = src / "_build" / "html" / ".doctrees" / "netdraw"
    before = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    assert before
    proc = sphinx(src, src / "_build" / "html", "html", "-E")  # every document read again
    assert proc.returncode == 0, proc.stderr
    assert len(warnings(proc)) == 1
    after = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    assert after == before
    from netdraw.zoo.onnx_models import small_resnet

    model = small_resnet()
    model.graph.name = "changed"
    onnx.save(model, src / "models" / "net.onnx")  # a changed model draws again
    proc = sphinx(src, src / "_build" / "html")
    assert proc.returncode == 0, proc.stderr
    assert "index" in proc.stdout and "page" in proc.stdout  # both documents re-read
    assert len(set(p.name for p in cache.iterdir()) - set(before)) >= 2


def test_parallel_build(tmp_path):
    src = make_project(tmp_path / "p")
    for i in range(8):  # Sphinx reads in parallel only with more than a few documents
        (src / f"extra{i}.rst").write_text(f"Extra {i}\n========\n\n.. netdraw:: "
                                           f"models/net.onnx\n   :depth: {i % 3}\n")
    (src / "index.rst").write_text(INDEX + "".join(f"   extra{i}\n" for i in range(8)))
    proc = sphinx(src, src / "_build", "html", "-j", "2")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"reading sources\.\.\. \[\s*\d+%\] \S+ \.\. \S+", proc.stdout), \
        "Sphinx did not read in parallel chunks"
    assert len(warnings(proc)) == 1, proc.stderr
    for i in range(8):
        ((uri, _),) = _images((src / "_build" / f"extra{i}.html").read_text())
        ET.parse(src / "_build" / uri)


def test_latex_build_compiles_with_a_tikz_figure(tmp_path):
    src = make_project(tmp_path / "l")
    out = src / "_build" / "latex"
    proc = sphinx(src, out, "latex")
    assert proc.returncode == 0, proc.stderr
    assert len(warnings(proc)) == 1
    tex = (out / "tiny.tex").read_text()
    assert r"\usepackage{netdraw}" in tex and (out / "netdraw.sty").is_file()
    (fragment,) = re.findall(r"\\netdrawfigure\{[^}]*\}\{(netdraw-\w+\.tex)\}", tex)
    assert r"\begin{tikzpicture}" in (out / fragment).read_text()
    pdfs = re.findall(r"\\sphinxincludegraphics\{\{(netdraw-\w+)\}\.pdf\}", tex)
    assert len(pdfs) == 2  # the Graphviz diagram (caption) and the MyST page's
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                           "-no-shell-escape", "tiny.tex"], cwd=out, capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-3000:]
    text = subprocess.run(["pdftotext", str(out / "tiny.pdf"), "-"], capture_output=True,
                          text=True, timeout=120).stdout
    assert "The small ResNet, drawn from its file." in text
    assert "conv1" in text and "fc3" in text  # the TikZ figure's labels, typeset
