"""Every example in the README and the docs pages runs as written: it keeps them honest.

The fenced code blocks of ``README.md`` and of every page of ``docs/`` are read and each one
is checked by what it is:

- shell blocks (```` ```sh ````, or a block without a language whose lines are commands):
  every ``netdraw`` command runs in a folder holding the placeholder model files below, must
  exit 0 and write a readable output; a ``netdraw: …`` line under a command is its expected
  stderr, compared exactly; ``> FILE`` keeps its standard output in FILE, and a ``|| …``
  fallback is left out (the command's exit status is checked instead). A command shown on
  several pages runs once. A usage synopsis (``netdraw draw MODEL -o OUT [--depth N] …``)
  is checked against the parser instead: every flag it shows exists, every command exists.
- ``python`` blocks run with the placeholder files, in a namespace chosen by the page and
  section they are in (:data:`SECTION_NAMESPACES`: the live ``model``, ``net``, ``x`` the
  snippets name).
- ``json`` blocks must parse and show the keys netdraw writes; ``toml`` blocks are
  configurations netdraw accepts; ``latex`` blocks compile with ``pdflatex``, after the
  ``% netdraw …`` commands in their comments have written the figures they ``\\input``.
- MyST directives (```` ```{netdraw} ````, ```` ```{toctree} ````) are run by the docs build
  itself (``sphinx -W`` in the test command), so only pages of ``docs/`` may hold them.

A command the test cannot run (it blocks, needs the network, or changes the machine) is
listed in :data:`NOT_RUN` with the reason. Anything else it does not know — a new netdraw
command, another program, an unknown block language — fails with a message saying where
to declare it, so a new README example is never skipped silently.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import ROOT, cli_env, require_tool
from test_bounded import wide_concat

import netdraw
from netdraw.cli import COMMANDS, build_parser

README = ROOT / "README.md"
DOCS = ROOT / "docs"
#: The README, then every page of the docs site (not its build output).
PAGES = [README, *sorted(p for p in DOCS.rglob("*.md")
                         if not any(part.startswith("_") for part in p.relative_to(DOCS).parts))]

#: netdraw commands whose README examples this test runs (they finish by themselves and
#: need only the placeholder files). The shorthand ``netdraw MODEL -o OUT`` is ``draw``.
RUN_COMMANDS = {"draw", "summary", "zoo", "gallery", "diff", "activations", "filters", "cam",
                "config"}

#: Commands never run, each with the reason; matched against a command's first words.
NOT_RUN: dict[tuple[str, ...], str] = {
    # Sets the machine up (apt-get, .venv/) and renders the whole gallery or runs the whole
    # suite, this test included: CI runs it (.ci/run).
    ("bash", "scripts/dev.sh"): "sets up the machine and runs the whole suite or gallery",
    # Installs into the environment running the tests; test_onnx_only_install.py installs
    # '.[onnx]' into a fresh virtual environment and checks what it promises.
    ("pip", "install"): "installs packages (tested by test_onnx_only_install.py)",
    # A server: it runs until stopped (tested by its own tests with a timeout).
    ("netdraw", "serve"): "blocks: it serves the page until stopped",
}

#: Languages of fenced blocks: what each is checked as ("" blocks are shell when their
#: lines are commands, else text such as a grammar or a folder tree).
SHELL_LANGS = {"sh", "bash", "shell", "console"}
TEXT_LANGS = {"", "text"}
PROGRAMS = {"netdraw", "pip", "bash", "python"}
#: Blocks that show the source of another kind of file, each with what checks it.
SOURCE_EXAMPLES = {
    # docs/sphinx.md shows a page using the directive, in both markups; tests/test_sphinx.py
    # builds pages with those options (and every figure of these docs is drawn that way).
    "rst": "a reStructuredText page using the directive (built by tests/test_sphinx.py)",
    "md": "a MyST page using the directive (built by tests/test_sphinx.py)",
}

BINARY_MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF-"}


@dataclass
class Block:
    lang: str  # "sh", "python", …; "{netdraw}" for a MyST directive
    line: int  # 1-based line of the opening fence
    section: str  # the nearest heading above
    lines: list[str] = field(default_factory=list)
    page: str = "README.md"  # the file, relative to the repository

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line} (section {self.section!r})"

    @property
    def directive(self) -> bool:
        return self.lang.startswith("{")


def read_blocks(text: str, page: str = "README.md") -> list[Block]:
    blocks: list[Block] = []
    section, current, fence = "", None, ""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if current is None:
            if stripped.startswith("#") and not stripped.startswith("#!"):
                section = stripped.lstrip("#").strip()
            match = re.match(r"^(```+|~~~+)\s*(\{[\w-]+\}|[\w+-]*)", stripped)
            if match:
                fence = match.group(1)
                current = Block(match.group(2).lower(), number, section, page=page)
        elif stripped.startswith(fence) and not stripped.strip(fence[0]):
            blocks.append(current)
            current = None
        else:
            current.lines.append(line)
    assert current is None, f"{page}:{current.line}: a code block is never closed"
    return blocks


def page_name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


BLOCKS = [b for path in PAGES
          for b in read_blocks(path.read_text(encoding="utf-8"), page_name(path))]


def words(line: str) -> list[str]:
    """A command line split as the shell would, without its trailing ``# comment``."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            line = line[:i]
            break
    return shlex.split(line)


def is_shell(block: Block) -> bool:
    if block.lang in SHELL_LANGS:
        return True
    first = next((ln.split()[0] for ln in block.lines if ln.strip()), "")
    return block.lang in TEXT_LANGS and first in PROGRAMS


def _placeholder(word: str) -> bool:
    """MODEL, OUT, [--depth, TB|LR, NAME…: a usage synopsis, not a runnable command."""
    return bool(re.fullmatch(r"[A-Z][A-Z_]*…?", word)) or word.startswith("[") or \
        "|" in word or word.endswith("…]")


@dataclass
class Command:
    argv: list[str]
    line: int
    expected_stderr: list[str] = field(default_factory=list)
    synopsis: bool = False
    page: str = "README.md"
    stdout_to: str | None = None  # '> FILE'

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}: {shlex.join(self.argv)!r}"

    @property
    def key(self) -> tuple:
        """What makes two shown commands the same run."""
        return tuple(self.argv), tuple(self.expected_stderr), self.stdout_to


def _shell_words(line: str) -> tuple[list[str], str | None]:
    """A command line's words without a ``|| fallback``, and the file of a ``> FILE``."""
    argv = words(line)
    if "||" in argv:
        argv = argv[:argv.index("||")]
    if ">" in argv:
        at = argv.index(">")
        assert len(argv) == at + 2, f"{line!r}: '>' must be followed by one file, last"
        return argv[:at], argv[at + 1]
    return argv, None


def commands(block: Block) -> list[Command]:
    """The block's commands; in a usage synopsis (a block with a placeholder such as MODEL
    or ``[--depth N]`` on any line) every command is a synopsis line."""
    out: list[Command] = []
    for offset, line in enumerate(block.lines, 1):
        if not line.strip():
            continue
        if line.startswith("netdraw: "):  # the message the command above prints
            assert out, f"{block.where}: an output line before any command"
            out[-1].expected_stderr.append(line)
            continue
        if line[0].isspace():  # a synopsis wrapped onto several lines
            assert out and out[-1].synopsis, f"{block.where}: indented line {line!r}"
            out[-1].argv += words(line)
            continue
        argv, stdout_to = _shell_words(line)
        out.append(Command(argv, block.line + offset, synopsis=any(map(_placeholder, argv)),
                           page=block.page, stdout_to=stdout_to))
    if any(c.synopsis for c in out):
        for c in out:
            c.synopsis = True
    return out


def subcommand(argv: list[str]) -> str:
    """The netdraw command a command line runs (``draw`` for the shorthand)."""
    rest = argv[1:]
    return rest[0] if rest and rest[0] in COMMANDS else "draw"


def not_run_reason(argv: list[str]) -> str | None:
    for prefix, reason in NOT_RUN.items():
        if tuple(argv[: len(prefix)]) == prefix:
            return reason
    return None


def looks_like_model(word: str) -> bool:
    """``model.onnx``, ``zoo:NAME``, ``pkg.module:factory``: what the shorthand takes."""
    return "." in word or ":" in word or "/" in word


SHELL = [(b, c) for b in BLOCKS if is_shell(b) for c in commands(b)]


def first_of_each(shown: list[Command]) -> list[Command]:
    """Each command once, where it is first shown (the README, then the pages by name)."""
    seen: set[tuple] = set()
    return [c for c in shown if not (c.key in seen or seen.add(c.key))]


RUNNABLE = first_of_each([c for _, c in SHELL
                          if not c.synopsis and not_run_reason(c.argv) is None])
SYNOPSES = [c for _, c in SHELL if c.synopsis]


# -- the placeholder model files -----------------------------------------------------------


def _mlp_onnx():
    """784 -> 256 -> ReLU -> 128 -> ReLU -> 10, built with onnx.helper."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    sizes, nodes, inits, x = (784, 256, 128, 10), [], [], "flat"
    nodes.append(helper.make_node("Flatten", ["image"], ["flat"], name="flatten"))
    for i, (a, b) in enumerate(zip(sizes, sizes[1:], strict=False)):
        inits += [numpy_helper.from_array(np.zeros((b, a), np.float32), f"fc{i}.weight"),
                  numpy_helper.from_array(np.zeros(b, np.float32), f"fc{i}.bias")]
        nodes.append(helper.make_node("Gemm", [x, f"fc{i}.weight", f"fc{i}.bias"], [f"h{i}"],
                                      name=f"fc{i}", transB=1))
        x = f"h{i}"
        if i < 2:
            nodes.append(helper.make_node("Relu", [x], [f"r{i}"], name=f"relu{i}"))
            x = f"r{i}"
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, 28, 28])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _resnet50_onnx(path: Path) -> None:
    """As the README says: the zoo's ResNet-50 exported in eval mode (the legacy exporter,
    which the README says gives the same view, because it is the faster one)."""
    import torch

    from netdraw import zoo

    model = zoo.build("resnet50").eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.randn(1, 3, 224, 224),), str(path), dynamo=False)


#: The factories docs/diff.md names: ``my.models:resnet34`` (torchvision's ResNet-34 layout)
#: and ``models:build`` (a small perceptron, also exported as ``exported.onnx``).
FACTORIES = {
    "my/models.py": """from netdraw.zoo.torch_models import BasicBlock, ResNet


def resnet34():
    return ResNet(BasicBlock, (3, 4, 6, 3)).eval()
""",
    "models.py": """import torch


def build():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                               torch.nn.Linear(256, 10)).eval()
""",
}


def _layers_net(width: int):
    """What docs/diff.md's Python example compares: ``layers.1`` is 256 or 512 units wide,
    the module ``layers`` holds it."""
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.Sequential(nn.Linear(64, 128), nn.Linear(128, width), nn.ReLU(),
                                        nn.Linear(width, 10))

        def forward(self, x):
            return self.layers(x)

    torch.manual_seed(0)
    return Net().eval(), torch.randn(1, 64)


def _export(model, example, path: Path) -> None:
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), str(path), dynamo=False)


def _diff_files(folder: Path) -> None:
    """The model pairs of docs/diff.md and docs/ci-diff.md: ``old``/``new`` differ (one layer
    widened), ``main``/``branch`` are the same architecture."""
    import shutil

    import keras
    import torch

    for name, width in (("old", 256), ("new", 512)):
        _export(*_layers_net(width), folder / f"{name}.onnx")
        inputs = keras.Input((64,))
        hidden = keras.layers.Dense(width, activation="relu", name="hidden")(inputs)
        keras.Model(inputs, keras.layers.Dense(10, name="head")(hidden)).save(
            folder / f"{name}.keras")
    shutil.copy(folder / "old.onnx", folder / "main.onnx")
    shutil.copy(folder / "old.onnx", folder / "branch.onnx")
    for relative, source in FACTORIES.items():
        (folder / relative).parent.mkdir(exist_ok=True)
        (folder / relative).write_text(source)
    namespace: dict = {}
    exec(FACTORIES["models.py"], namespace)
    _export(namespace["build"](), torch.randn(1, 784), folder / "exported.onnx")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with every model file the README's and the docs' examples name."""
    import onnx

    from netdraw import zoo

    folder = tmp_path_factory.mktemp("readme")
    onnx.save(zoo.build("onnx-resnet"), folder / "model.onnx")
    onnx.save(_mlp_onnx(), folder / "mlp.onnx")
    _resnet50_onnx(folder / "resnet50.onnx")
    onnx.save(wide_concat(20_000), folder / "wide.onnx")  # one Concat of 20,000 inputs
    _shape_png(folder / "shape.png")
    _shape_pngs(folder / "images")  # docs/attribution.md's folder of inputs
    _torch_namespace(folder)  # model.pt2
    _keras_namespace(folder)  # model.keras, model.h5
    _diff_files(folder)
    return folder


def _shape_png(path: Path) -> None:
    """One of the images zoo:shapes was trained on (the README's ``shape.png``)."""
    import numpy as np
    from PIL import Image

    from netdraw.zoo.shapes import make_batch

    images, _, _ = make_batch(1, seed=7)
    pixels = (images[0].transpose(1, 2, 0) * 255).clip(0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path)


def _shape_pngs(folder: Path, count: int = 4) -> None:
    """A folder of images like those zoo:shapes was trained on (``--input DIR``)."""
    import numpy as np
    from PIL import Image

    from netdraw.zoo.shapes import make_batch

    folder.mkdir()
    images, _, _ = make_batch(count, seed=11)
    for index, image in enumerate(images):
        pixels = (image.transpose(1, 2, 0) * 255).clip(0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{index}.png")


def _viz_namespace(folder: Path) -> dict:
    """``model`` is the trained zoo:shapes network, ``x`` a batch of two of its images."""
    from netdraw import zoo
    from netdraw.zoo.shapes import make_batch

    return {"model": zoo.build("shapes"), "x": make_batch(2, seed=3)[0]}


# -- shell examples ------------------------------------------------------------------------


def test_every_shell_example_is_run_or_has_a_reason():
    assert RUNNABLE, "no runnable shell example found in the README: is the parser broken?"
    assert {c.page for c in RUNNABLE} > {"README.md"}, "no docs page's example is run"
    for _, command in SHELL:
        program = command.argv[0]
        where = command.where
        assert program in PROGRAMS, (
            f"{where} runs {program!r}, which tests/test_readme_examples.py does not know: "
            "add it to PROGRAMS and say how to check it, or to NOT_RUN with the reason")
        if command.synopsis:
            assert program == "netdraw", f"{where}: a synopsis of a program other than netdraw"
            continue
        if not_run_reason(command.argv) is not None:
            continue
        assert program == "netdraw", (
            f"{where}: {program!r} commands are not run by this test: list the command in "
            "NOT_RUN with the reason, or teach the test to run it")
        name = subcommand(command.argv)
        assert name != "draw" or command.argv[1] == "draw" or looks_like_model(command.argv[1]), (
            f"{where}: {command.argv[1]!r} is neither a netdraw command ({', '.join(COMMANDS)}) "
            "nor a model file: a command the docs show must exist")
        assert name in RUN_COMMANDS, (
            f"{where} uses 'netdraw {name}', which tests/test_readme_examples.py does not "
            "know: add it to RUN_COMMANDS if it ends by itself and needs only the placeholder "
            "files (workdir), or to NOT_RUN with the reason (it blocks, needs an image, …)")


def _output(argv: list[str]) -> str:
    return next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("-o", "--output")), "-")


def _answers(argv: list[str]) -> tuple[int, ...]:
    """The exit statuses a command may give: the table of 'netdraw diff' (--summary, or no
    -o) answers like diff(1), 0 when the models are the same and 1 when not."""
    table = {"--summary", "--markdown", "--latex"} & set(argv) or _output(argv) == "-"
    return (0, 1) if subcommand(argv) == "diff" and table else (0,)


@pytest.mark.parametrize("command", RUNNABLE, ids=[
    f"{Path(c.page).name}:{c.line}:{' '.join(c.argv[1:3])}" for c in RUNNABLE])
def test_shell_example_runs(command, workdir):
    proc = subprocess.run([sys.executable, "-m", "netdraw", *command.argv[1:]],
                          capture_output=True, text=True, cwd=workdir, env=cli_env(),
                          timeout=600)
    where = command.where
    answers = _answers(command.argv)
    assert proc.returncode in answers, (
        f"{where} failed:\n{proc.stderr}\n(a model file it needs that workdir does not make "
        "belongs in the workdir fixture)")
    if command.expected_stderr:
        assert proc.stderr.splitlines() == command.expected_stderr, (
            f"{where}: the page shows\n{command.expected_stderr}\nbut netdraw printed\n"
            f"{proc.stderr}")
    argv = command.argv
    output = _output(argv)
    if output == "-":
        assert proc.stdout.strip(), f"{where} printed nothing"
        if command.stdout_to:  # '> FILE', as the shell would
            (workdir / command.stdout_to).write_text(proc.stdout)
        return
    path = workdir / output
    if subcommand(argv) in ("gallery", "activations", "filters"):  # these write folders
        assert path.is_dir() and any(path.iterdir()), where
        return
    data = path.read_bytes()
    assert data, f"{where} wrote an empty {output}"
    if path.suffix in BINARY_MAGIC:
        assert data.startswith(BINARY_MAGIC[path.suffix]), where
    elif path.suffix == ".svg":
        ET.fromstring(data)
    elif path.suffix == ".json":
        json.loads(data)


def _options(parser: argparse.ArgumentParser, name: str) -> set[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {opt for action in sub.choices[name]._actions for opt in action.option_strings}


def test_synopsis_matches_the_parser():
    assert SYNOPSES, "no page shows a command-line synopsis"
    parser = build_parser()
    shown = set()
    for command in SYNOPSES:
        name = subcommand(command.argv)
        shown.add(name)
        options = _options(parser, name)
        for word in command.argv:
            for flag in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", word):
                assert flag in options, (
                    f"{command.page}:{command.line}: the synopsis of 'netdraw {name}' shows "
                    f"{flag}, which the parser does not take ({', '.join(sorted(options))})")
    missing = set(COMMANDS) - shown
    assert not missing, f"commands missing from the synopsis: {sorted(missing)}"


# -- Python and JSON examples --------------------------------------------------------------


def _torch_namespace(folder: Path) -> dict:
    """``model`` takes an image (or a dict of image and mask), ``x`` and ``m`` are inputs;
    ``model.pt2`` is its torch.export archive."""
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)
            self.head = nn.Linear(8, 10)

        def forward(self, x):
            if isinstance(x, dict):
                x = x["image"] * x["mask"]
            return self.head(self.conv(x).mean((2, 3)))

    model = Net().eval()
    x, m = torch.randn(1, 3, 224, 224), torch.ones(1, 1, 224, 224)
    torch.export.save(torch.export.export(model, (x,)), str(folder / "model.pt2"))
    return {"model": model, "x": x, "m": m}


def _keras_namespace(folder: Path) -> dict:
    """``model`` a built Functional model saved as model.keras and model.h5, ``net`` a
    subclassed model never called."""
    import keras

    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(10)(x))
    model.save(folder / "model.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(folder / "model.h5")

    class Net(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.conv = keras.layers.Conv2D(4, 3)
            self.fc = keras.layers.Dense(2)

        def call(self, x):
            return self.fc(self.conv(x))

    return {"model": model, "net": Net()}


#: Names the Python snippets of a page's section use, made by these functions (in the
#: placeholder folder, which is the current directory while a snippet runs).
SECTION_NAMESPACES = {
    ("docs/importers.md", "What the PyTorch importer does"): _torch_namespace,
    ("docs/importers.md", "What the Keras importer does"): _keras_namespace,
    ("docs/viz.md", "From Python"): _viz_namespace,
    ("docs/attribution.md", "Attribution: class-activation maps, pixel attributions, "
                            "faithfulness"): _viz_namespace,
}

#: Sections whose Python snippets are not run, each with the reason (none yet: a snippet
#: that blocks or needs what no test can make belongs here).
PYTHON_NOT_RUN: dict[tuple[str, str], str] = {}

PYTHON = [b for b in BLOCKS if b.lang == "python" and (b.page, b.section) not in PYTHON_NOT_RUN]


@pytest.mark.parametrize("block", PYTHON, ids=[f"{Path(b.page).name}:{b.line}" for b in PYTHON])
def test_python_example_runs(block, workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    namespace = {"netdraw": netdraw}
    if (block.page, block.section) in SECTION_NAMESPACES:
        namespace.update(SECTION_NAMESPACES[block.page, block.section](workdir))
    code = compile("\n".join(block.lines), f"{block.page}:{block.line}", "exec")
    try:
        exec(code, namespace)
    except NameError as exc:
        pytest.fail(f"{block.where}: {exc}; give the section's snippets the names they use "
                    "in SECTION_NAMESPACES (or list the section in PYTHON_NOT_RUN with the "
                    "reason)")


def test_json_example_shows_the_keys_netdraw_writes(workdir):
    blocks = [b for b in BLOCKS if b.lang == "json"]
    assert blocks, "no page shows a JSON example"
    written = json.loads(netdraw.load(workdir / "model.onnx").to_json())
    for block in blocks:
        shown = json.loads("\n".join(block.lines))
        assert shown["schema"] == written["schema"], block.where
        assert set(shown) == set(written), block.where
        assert set(shown["nodes"][0]) == set(written["nodes"][0]), block.where
        assert set(shown["edges"][0]) == set(written["edges"][0]), block.where


def test_toml_example_is_a_valid_configuration():
    """Every ```toml block is a pyproject.toml fragment netdraw accepts, key by key."""
    from netdraw import settings
    from netdraw.settings import _tomllib

    blocks = [b for b in BLOCKS if b.lang == "toml"]
    assert blocks, "no page shows a configuration example"
    for block in blocks:
        data = _tomllib().loads("\n".join(block.lines))
        config = settings.ConfigFile(Path("pyproject.toml"), data["tool"]["netdraw"])
        loaded = settings.load_settings(build_parser(), config)  # raises on a bad key
        assert loaded.commands, block.where


LATEX = [b for b in BLOCKS if b.lang == "latex"]


@pytest.mark.parametrize("block", LATEX, ids=[f"{Path(b.page).name}:{b.line}" for b in LATEX])
def test_latex_example_compiles(block, workdir, tmp_path):
    """A LaTeX document shown on a page compiles with pdflatex (no shell escape), with the
    figures its ``% netdraw …`` comments write, and prints what it \\input."""
    import shutil

    pdflatex = require_tool("pdflatex")
    made = [words(line.split("%", 1)[1]) for line in block.lines
            if re.search(r"%\s*netdraw ", line)]
    assert made, f"{block.where}: no '% netdraw …' comment says how its figure is made"
    for argv in made:
        for name in {a for a in argv[1:] if (workdir / a).is_file()}:
            shutil.copy(workdir / name, tmp_path / name)
        proc = subprocess.run([sys.executable, "-m", "netdraw", *argv[1:]], cwd=tmp_path,
                              capture_output=True, text=True, env=cli_env(), timeout=600)
        assert proc.returncode == 0, f"{block.where}: {shlex.join(argv)}: {proc.stderr}"
    (tmp_path / "paper.tex").write_text("\n".join(block.lines) + "\n")
    proc = subprocess.run([pdflatex, "-halt-on-error", "-no-shell-escape",
                           "-interaction=nonstopmode", "paper.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{block.where} does not compile:\n{proc.stdout[-3000:]}"
    pdftotext = require_tool("pdftotext")
    text = subprocess.run([pdftotext, "paper.pdf", "-"], cwd=tmp_path, capture_output=True,
                          text=True, check=True).stdout
    caption = re.search(r"\\caption\{([^}]*)\}", "\n".join(block.lines))
    assert caption and caption.group(1) in text, f"{block.where}: the caption is not printed"
    assert "Input" in text, f"{block.where}: the figure's legend is not in the PDF"


def test_every_block_is_understood():
    known = SHELL_LANGS | TEXT_LANGS | {"python", "json", "toml", "latex"} | set(SOURCE_EXAMPLES)
    for block in BLOCKS:
        if block.directive:  # a MyST directive: run by the docs build (sphinx -W)
            assert block.page.startswith("docs/"), (
                f"{block.where}: a ```{block.lang} directive outside docs/ is never built")
            continue
        assert block.lang in known, (
            f"{block.where}: a ```{block.lang} block, which tests/test_readme_examples.py "
            "does not check: teach it (or use ```text for prose)")


# -- the README as a front page ----------------------------------------------------------


def test_readme_is_a_front_page_with_the_two_commands():
    """The README stays short (the manual is docs/) and shows the two commands CI and a
    new contributor run, exactly; .ci/run runs the test one."""
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200, "the README is a front page: move detail to docs/"
    shown = {shlex.join(c.argv) for _, c in SHELL if c.page == "README.md"}
    assert {"bash scripts/dev.sh gallery", "bash scripts/dev.sh test"} <= shown
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert "bash scripts/dev.sh test" in ci


_LINK = re.compile(r'\]\(([^)\s]+)\)|(?:src|href)="([^"]+)"')


@pytest.mark.parametrize("page", PAGES, ids=[page_name(p) for p in PAGES])
def test_relative_links_point_at_files(page):
    """Every relative link and picture of a page names a file that exists (an anchor is
    checked by the docs build)."""
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"^(```+|~~~+).*?^\1", "", text, flags=re.M | re.S)  # not inside code
    for match in _LINK.finditer(text):
        target = (match.group(1) or match.group(2)).split("#")[0]
        if not target or re.match(r"^[a-z]+:", target):
            continue
        assert (page.parent / target).exists(), f"{page_name(page)}: {target} does not exist"


def test_parser_reads_this_file_itself():
    """The block reader against a page written here, so its rules are pinned down."""
    text = ("# A\n```sh\nnetdraw m.onnx -o a.svg --colors conv=#9ecae1  # note\n"
            "netdraw: drew it\n```\n## B\n```\nSTEP>STEP\n```\n"
            "````md\n```{netdraw} zoo:mlp\n```\n````\n```{netdraw} zoo:mlp\n:depth: 1\n```\n")
    sh, grammar, source, directive = read_blocks(text, "docs/x.md")
    assert is_shell(sh) and not is_shell(grammar) and grammar.section == "B"
    assert source.lang == "md" and source.lines == ["```{netdraw} zoo:mlp", "```"]
    assert directive.directive and directive.lang == "{netdraw}" and not source.directive
    assert sh.where == "docs/x.md:2 (section 'A')"
    (command,) = commands(sh)
    assert command.argv == ["netdraw", "m.onnx", "-o", "a.svg", "--colors", "conv=#9ecae1"]
    assert command.expected_stderr == ["netdraw: drew it"] and not command.synopsis
    assert commands(Block("", 1, "", ["netdraw draw MODEL -o OUT [--depth N]"]))[0].synopsis
    assert not_run_reason(["netdraw", "serve", "m.onnx"]) is not None
    assert not_run_reason(["netdraw", "m.onnx", "-o", "x.svg"]) is None
    usage = commands(Block("", 1, "", ["netdraw zoo", "netdraw gallery [-o DIR]"]))
    assert all(c.synopsis for c in usage)
    (table, check) = commands(Block("sh", 1, "", [
        "netdraw diff a.onnx b.onnx --markdown > CHANGES.md",
        'netdraw diff a.onnx b.onnx --summary || echo "changed"']))
    assert table.argv[-1] == "--markdown" and table.stdout_to == "CHANGES.md"
    assert check.argv[-1] == "--summary" and check.stdout_to is None
    assert _answers(table.argv) == (0, 1) == _answers(check.argv)
    assert _answers(["netdraw", "diff", "a", "b", "-o", "d.svg"]) == (0,)
    assert len(first_of_each([table, table, check])) == 2
