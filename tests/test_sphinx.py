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
    pdfs = re.findall(r"\\netdrawgraphics\{\}\{(netdraw-\w+)\.pdf\}", tex)
    assert len(pdfs) == 2  # the Graphviz diagram (caption) and the MyST page's
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                           "-no-shell-escape", "tiny.tex"], cwd=out, capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-3000:]
    text = subprocess.run(["pdftotext", str(out / "tiny.pdf"), "-"], capture_output=True,
                          text=True, timeout=120).stdout
    assert "The small ResNet, drawn from its file." in text
    assert "conv1" in text and "fc3" in text  # the TikZ figure's labels, typeset


# -- what a figure depends on: project sources, the configuration -----------------------------

STALE_CONF = '''\
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
project = "stale"
extensions = ["netdraw.sphinx"]
'''

STALE_INDEX = '''\
Stale
=====

.. netdraw:: shop.model:build
   :input-shape: 1,3,16,16

.. netdraw:: shop.model:build
   :input-shape: 1,3,16,16
   :full:
'''

MODEL = '''\
import torch.nn as nn

from .blocks import Block


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(Block.WIDTH, 2)

    def forward(self, x):
        return self.head(self.block(x).mean((2, 3)))


def build():
    return Net().eval()
'''

BLOCKS = '''\
import torch.nn as nn


class Block(nn.Sequential):
    WIDTH = {width}

    def __init__(self):
        super().__init__(nn.Conv2d(3, self.WIDTH, 3), nn.ReLU())
'''


def _svg_texts(out: Path, page: str = "index.html") -> list[set[str]]:
    html = (out / page).read_text()
    return [{t.text for t in ET.parse(out / uri).iter() if t.tag.endswith("text") and t.text}
            for uri, _ in _images(html)]


def _read_again(proc: subprocess.CompletedProcess[str]) -> bool:
    """Whether Sphinx read ``index`` again (it lists what it reads after 'reading sources')."""
    # under CI=true Sphinx starts its progress lines with a clear-line escape (ESC [2K)
    lines = [re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", ln) for ln in proc.stdout.splitlines()]
    reading = [ln for ln in lines if ln.startswith("reading sources")]
    return any("index" in ln for ln in reading)


def test_edits_to_imported_sources_and_to_the_configuration_redraw_the_figures(tmp_path):
    """The model's block class lives in a second file, the defaults in ``[tool.netdraw]``:
    an edit to either re-reads the page and redraws every figure, without ``-E``; a broken
    configuration warns, and fixing it brings the figures back."""
    require_module("torch")
    src = tmp_path / "docs"
    (src / "shop").mkdir(parents=True)
    (src / "shop" / "__init__.py").write_text("")
    (src / "shop" / "model.py").write_text(MODEL)
    (src / "shop" / "blocks.py").write_text(BLOCKS.format(width=8))
    (src / "conf.py").write_text(STALE_CONF)
    (src / "index.rst").write_text(STALE_INDEX)
    (src / "pyproject.toml").write_text('[tool.netdraw]\ntitle = "First title"\n')
    out = src / "_build"

    def build() -> subprocess.CompletedProcess[str]:
        env = cli_env()
        env.pop("NETDRAW_CONFIG", None)  # the project's own file is read
        return subprocess.run([sys.executable, "-m", "sphinx", "--no-color", "-b", "html",
                               str(src), str(out)], capture_output=True, text=True, env=env,
                              timeout=900, cwd=tmp_path)

    proc = build()
    assert proc.returncode == 0 and not warnings(proc), proc.stderr
    figures = _svg_texts(out)
    assert len(figures) == 2
    assert all("First title" in texts for texts in figures), figures
    assert any(t.endswith("×8×14×14") for t in figures[1]), figures[1]  # the framework's shape

    (src / "shop" / "blocks.py").write_text(BLOCKS.format(width=12))
    proc = build()
    assert proc.returncode == 0 and not warnings(proc), proc.stderr
    assert _read_again(proc), proc.stdout
    figures = _svg_texts(out)
    assert any(t.endswith("×12×14×14") for t in figures[1]), figures[1]
    assert not any(t.endswith("×8×14×14") for texts in figures for t in texts)

    (src / "pyproject.toml").write_text('[tool.netdraw]\ntitle = "First title"\ndepht = 2\n')
    proc = build()
    assert _read_again(proc), proc.stdout
    broken = warnings(proc)
    assert len(broken) == 2 and all("unknown key 'depht'" in w and "pyproject.toml" in w
                                    for w in broken), proc.stderr
    assert _svg_texts(out) == []

    (src / "pyproject.toml").write_text('[tool.netdraw]\ntitle = "Second title"\n')
    proc = build()
    assert proc.returncode == 0 and not warnings(proc), proc.stderr
    assert _read_again(proc), proc.stdout
    figures = _svg_texts(out)
    assert len(figures) == 2 and all("Second title" in texts and "First title" not in texts
                                     for texts in figures), figures

    proc = build()  # nothing changed: nothing read, nothing drawn
    assert proc.returncode == 0 and not _read_again(proc), proc.stdout


def test_project_sources_are_the_project_files_a_factory_imports(tmp_path, monkeypatch):
    """Followed: absolute and relative imports, ``from package import module``, packages'
    ``__init__`` files. Not followed: the standard library, site-packages, netdraw."""
    from netdraw.sphinx.render import project_sources

    pkg = tmp_path / "proj"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from . import util\n")
    (pkg / "util.py").write_text("import json\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "layers.py").write_text("from ..util import helper\nimport numpy\n")
    (pkg / "models.py").write_text(
        "import os\nimport netdraw\nfrom proj.sub import layers\nfrom .sub.layers import x\n")
    (tmp_path / "lonely.py").write_text("# imported by nobody\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = project_sources("proj.models")
    assert found == sorted(pkg / name for name in ("__init__.py", "util.py", "models.py",
                                                   "sub/__init__.py", "sub/layers.py"))


def test_a_tall_diagram_fits_the_latex_page(tmp_path):
    """U-Net drawn in full is a column far taller than the page: in a figure with a caption
    it made pdflatex say "Float too large"; it is scaled down to fit instead."""
    require_module("torch")
    src = tmp_path / "tall"
    src.mkdir()
    (src / "conf.py").write_text(CONF)
    (src / "index.rst").write_text("Tall\n====\n\n.. netdraw:: zoo:unet\n   :full:\n"
                                   "   :caption: U-Net, every layer.\n\n"
                                   ".. netdraw:: zoo:unet\n   :full:\n   :width: 50%\n")
    out = src / "_build"
    proc = sphinx(src, out, "latex")
    assert proc.returncode == 0 and not warnings(proc), proc.stderr
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                           "-no-shell-escape", "tiny.tex"], cwd=out, capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-3000:]
    log = (out / "tiny.log").read_text(errors="replace")
    assert "Float too large" not in log and "Overfull \\vbox" not in log, \
        [ln for ln in log.splitlines() if "too large" in ln or "Overfull" in ln]
    assert "U-Net, every layer." in subprocess.run(
        ["pdftotext", str(out / "tiny.pdf"), "-"], capture_output=True, text=True,
        timeout=120).stdout


def test_the_embedded_preview_shows_its_whole_toolbar(tmp_path, browser):
    """``:format: html`` puts the page in an iframe as wide as the docs' text column: every
    toolbar button (PNG export included) must be inside the frame and be what a click at
    its centre reaches."""
    src = make_project(tmp_path / "frame")
    (src / "index.rst").write_text("Frame\n=====\n\n.. netdraw:: models/net.onnx\n"
                                   "   :format: html\n")
    (src / "page.md").unlink()
    out = src / "_build"
    proc = sphinx(src, out)
    assert proc.returncode == 0 and not warnings(proc), proc.stderr
    # The site's pages share one copy of their scripts beside them.
    (page_file,) = (out / "_images").glob("netdraw-*.html")
    assert page_file.stat().st_size < 300_000
    assert len(list((out / "_images" / "netdraw-assets").iterdir())) == 3
    for width in (1280, 900, 600):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto((out / "index.html").as_uri())
        frame_el = page.wait_for_selector("iframe.netdraw")
        box = frame_el.bounding_box()
        assert box["width"] < 900  # the text column, narrower than the window
        frame = frame_el.content_frame()
        frame.wait_for_selector("body[data-ready='1']", timeout=60_000)
        missed = frame.evaluate("""() => [
            ...document.querySelectorAll('#nd-bar button, #nd-search')].filter((el) => {
              const r = el.getBoundingClientRect();
              const inside = r.left >= 0 && r.top >= 0 && r.right <= innerWidth &&
                r.bottom <= innerHeight && r.width > 0;
              const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
              return !inside || !(hit === el || el.contains(hit));
            }).map((el) => el.id)""")
        assert missed == [], (width, box, missed)
        stage = frame.evaluate("document.getElementById('nd-stage').getBoundingClientRect()"
                               ".height")
        assert stage > 300, stage  # the drawing keeps most of the frame
        context.close()
