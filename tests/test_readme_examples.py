"""Every example in the README runs as written: it keeps the README honest.

The README's fenced code blocks are read and each one is checked by what it is:

- shell blocks (```` ```sh ````, or a block without a language whose lines are commands):
  every ``netdraw`` command runs in a folder holding the placeholder model files below, must
  exit 0 and write a readable output; a ``netdraw: …`` line under a command is its expected
  stderr, compared exactly. A usage synopsis (``netdraw draw MODEL -o OUT [--depth N] …``)
  is checked against the parser instead: every flag it shows exists, every command exists.
- ``python`` blocks run with the placeholder files, in a namespace chosen by the README
  section they are in (:data:`SECTION_NAMESPACES`: the live ``model``, ``net``, ``x`` the
  snippets name).
- ``json`` blocks must parse and show the keys netdraw writes.

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
from conftest import ROOT, cli_env
from test_bounded import wide_concat

import netdraw
from netdraw.cli import COMMANDS, build_parser

README = ROOT / "README.md"

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

BINARY_MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF-"}


@dataclass
class Block:
    lang: str
    line: int  # 1-based line of the opening fence
    section: str  # the nearest heading above
    lines: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"README.md:{self.line} (section {self.section!r})"


def read_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    section, current, fence = "", None, ""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if current is None:
            if stripped.startswith("#") and not stripped.startswith("#!"):
                section = stripped.lstrip("#").strip()
            match = re.match(r"^(```+|~~~+)\s*([\w+-]*)", stripped)
            if match:
                fence = match.group(1)
                current = Block(match.group(2).lower(), number, section)
        elif stripped.startswith(fence) and not stripped.strip(fence[0]):
            blocks.append(current)
            current = None
        else:
            current.lines.append(line)
    assert current is None, f"README.md:{current.line}: a code block is never closed"
    return blocks


BLOCKS = read_blocks(README.read_text(encoding="utf-8"))


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
        argv = words(line)
        out.append(Command(argv, block.line + offset, synopsis=any(map(_placeholder, argv))))
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
RUNNABLE = [c for _, c in SHELL if not c.synopsis and not_run_reason(c.argv) is None]
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


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with every model file the README's examples name."""
    import onnx

    from netdraw import zoo

    folder = tmp_path_factory.mktemp("readme")
    onnx.save(zoo.build("onnx-resnet"), folder / "model.onnx")
    onnx.save(_mlp_onnx(), folder / "mlp.onnx")
    _resnet50_onnx(folder / "resnet50.onnx")
    onnx.save(wide_concat(20_000), folder / "wide.onnx")  # one Concat of 20,000 inputs
    _shape_png(folder / "shape.png")
    return folder


def _shape_png(path: Path) -> None:
    """One of the images zoo:shapes was trained on (the README's ``shape.png``)."""
    import numpy as np
    from PIL import Image

    from netdraw.zoo.shapes import make_batch

    images, _, _ = make_batch(1, seed=7)
    pixels = (images[0].transpose(1, 2, 0) * 255).clip(0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path)


def _viz_namespace(folder: Path) -> dict:
    """``model`` is the trained zoo:shapes network, ``x`` a batch of two of its images."""
    from netdraw import zoo
    from netdraw.zoo.shapes import make_batch

    return {"model": zoo.build("shapes"), "x": make_batch(2, seed=3)[0]}


# -- shell examples ------------------------------------------------------------------------


def test_every_shell_example_is_run_or_has_a_reason():
    assert RUNNABLE, "no runnable shell example found in README.md: is the parser broken?"
    for _, command in SHELL:
        program = command.argv[0]
        where = f"README.md:{command.line}: {shlex.join(command.argv)!r}"
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
            "nor a model file: a command the README documents must exist")
        assert name in RUN_COMMANDS, (
            f"{where} uses 'netdraw {name}', which tests/test_readme_examples.py does not "
            "know: add it to RUN_COMMANDS if it ends by itself and needs only the placeholder "
            "files (workdir), or to NOT_RUN with the reason (it blocks, needs an image, …)")


@pytest.mark.parametrize("command", RUNNABLE,
                         ids=[f"line{c.line}:{' '.join(c.argv[1:3])}" for c in RUNNABLE])
def test_shell_example_runs(command, workdir):
    proc = subprocess.run([sys.executable, "-m", "netdraw", *command.argv[1:]],
                          capture_output=True, text=True, cwd=workdir, env=cli_env(),
                          timeout=600)
    where = f"README.md:{command.line}: {shlex.join(command.argv)}"
    # 'diff --summary' answers like diff(1): 0 when the models are the same, 1 when not.
    answers = (0, 1) if subcommand(command.argv) == "diff" and "--summary" in command.argv \
        else (0,)
    assert proc.returncode in answers, (
        f"{where} failed:\n{proc.stderr}\n(a model file it needs that workdir does not make "
        "belongs in the workdir fixture)")
    if command.expected_stderr:
        assert proc.stderr.splitlines() == command.expected_stderr, (
            f"{where}: the README shows\n{command.expected_stderr}\nbut netdraw printed\n"
            f"{proc.stderr}")
    argv = command.argv
    output = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("-o", "--output")),
                  "-")
    if output == "-":
        assert proc.stdout.strip(), f"{where} printed nothing"
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
    assert SYNOPSES, "the README has no command-line synopsis"
    parser = build_parser()
    shown = set()
    for command in SYNOPSES:
        name = subcommand(command.argv)
        shown.add(name)
        options = _options(parser, name)
        for word in command.argv:
            for flag in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", word):
                assert flag in options, (
                    f"README.md:{command.line}: the synopsis of 'netdraw {name}' shows {flag}, "
                    f"which the parser does not take ({', '.join(sorted(options))})")
    missing = set(COMMANDS) - shown
    assert not missing, f"commands missing from the README's synopsis: {sorted(missing)}"


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


#: Names the Python snippets of a README section use, made by these functions (in the
#: placeholder folder, which is the current directory while a snippet runs).
SECTION_NAMESPACES = {
    "What the PyTorch importer does": _torch_namespace,
    "What the Keras importer does": _keras_namespace,
    "What the network computes: activations, filters, class-activation maps": _viz_namespace,
}

#: README sections whose Python snippets are not run, each with the reason (none yet: a
#: snippet that blocks or needs what no test can make belongs here).
PYTHON_NOT_RUN: dict[str, str] = {}

PYTHON = [b for b in BLOCKS if b.lang == "python" and b.section not in PYTHON_NOT_RUN]


@pytest.mark.parametrize("block", PYTHON, ids=[f"line{b.line}" for b in PYTHON])
def test_python_example_runs(block, workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    namespace = {"netdraw": netdraw}
    if block.section in SECTION_NAMESPACES:
        namespace.update(SECTION_NAMESPACES[block.section](workdir))
    code = compile("\n".join(block.lines), f"README.md:{block.line}", "exec")
    try:
        exec(code, namespace)
    except NameError as exc:
        pytest.fail(f"{block.where}: {exc}; give the section's snippets the names they use "
                    "in SECTION_NAMESPACES (or list the section in PYTHON_NOT_RUN with the "
                    "reason)")


def test_json_example_shows_the_keys_netdraw_writes(workdir):
    blocks = [b for b in BLOCKS if b.lang == "json"]
    assert blocks, "the README shows no JSON example"
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
    assert blocks, "the README shows no configuration example"
    for block in blocks:
        data = _tomllib().loads("\n".join(block.lines))
        config = settings.ConfigFile(Path("pyproject.toml"), data["tool"]["netdraw"])
        loaded = settings.load_settings(build_parser(), config)  # raises on a bad key
        assert loaded.commands, block.where


def test_every_block_is_understood():
    for block in BLOCKS:
        known = SHELL_LANGS | TEXT_LANGS | {"python", "json", "toml"}
        assert block.lang in known, (
            f"{block.where}: a ```{block.lang} block, which tests/test_readme_examples.py "
            "does not check: teach it (or use ```text for prose)")


def test_parser_reads_this_file_itself():
    """The block reader against a README written here, so its rules are pinned down."""
    text = ("# A\n```sh\nnetdraw m.onnx -o a.svg --colors conv=#9ecae1  # note\n"
            "netdraw: drew it\n```\n## B\n```\nSTEP>STEP\n```\n")
    sh, grammar = read_blocks(text)
    assert is_shell(sh) and not is_shell(grammar) and grammar.section == "B"
    (command,) = commands(sh)
    assert command.argv == ["netdraw", "m.onnx", "-o", "a.svg", "--colors", "conv=#9ecae1"]
    assert command.expected_stderr == ["netdraw: drew it"] and not command.synopsis
    assert commands(Block("", 1, "", ["netdraw draw MODEL -o OUT [--depth N]"]))[0].synopsis
    assert not_run_reason(["netdraw", "serve", "m.onnx"]) is not None
    assert not_run_reason(["netdraw", "m.onnx", "-o", "x.svg"]) is None
    usage = commands(Block("", 1, "", ["netdraw zoo", "netdraw gallery [-o DIR]"]))
    assert all(c.synopsis for c in usage)
