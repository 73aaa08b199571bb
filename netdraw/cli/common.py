"""What several commands share: the model argument and its options, the view flags, the
one-line view report and output-format checks. Imports no framework."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from netdraw.errors import NetdrawError

VIEW_HELP = """\
views:
  Without --depth netdraw draws the default view: the deepest group level with at most
  --max-nodes (40) nodes whose drawing, wrapped into columns if it is a tall chain, is at
  most 4x longer than wide; it says on stderr which view it drew. --full draws every node.

  Depth: 0 is the whole model as one block, 1 its top-level groups (layer1, ...) as blocks,
  2 their children, and so on. Flat models (Keras applications, anonymous ONNX) get groups
  from name prefixes (conv4_block2_1_conv -> conv4 > conv4_block2) or, failing that, from
  the structure (stretches between nodes all data flows through).

  Rolling: consecutive sibling groups whose layers match one to one in kind, op type,
  attributes and input/output shapes, wired alike, of one class, each feeding the next,
  are drawn once as 'Bottleneck xN'. A block that changes shape never rolls.

  Folding: chains fold into their first node. Defaults: conv>norm>activation (ConvBNAct),
  conv>norm, conv>activation, dense>norm>activation, dense>activation|softmax,
  norm>activation, add>activation. Add your own with --fold 'STEP>STEP...=Name': each step
  is a kind (conv, norm, activation, dense, ...) or an op type (BatchNormalization, ReLU),
  'a|b' for alternatives, 'step?' when optional. --no-fold turns the defaults off
  (your --fold patterns still apply).

  Hidden unless --keep-all: dropout, identity, casts, shape arithmetic (Shape, Gather of a
  shape, Unsqueeze of a constant, ...), weight transposes and bias adds (merged into their
  layer).
"""


# -- the model argument ----------------------------------------------------------------


def add_model_arguments(parser: argparse.ArgumentParser, metavar: str = "MODEL",
                        dest: str = "model") -> None:
    """MODEL and the options that say how to build it (every command that loads a model)."""
    parser.add_argument(dest, metavar=metavar,
                        help="a model file (.onnx, .pt2, .keras, .h5, .json written by "
                             "netdraw, …), zoo:NAME, or pkg.module:factory (a function or "
                             "class that builds the model)")
    if any(a.dest == "input_shape" for a in parser._actions):
        return  # a second model argument (diff A B) shares the options
    group = parser.add_argument_group("model options")
    group.add_argument("--input-shape", action="append", type=parse_shape, metavar="SHAPE",
                       help="example input shape for a PyTorch module, e.g. 1,3,224,224; "
                            "repeat for several inputs")
    group.add_argument("--input-dtype", metavar="DTYPE",
                       help="example input dtype (float32 by default; int64 for token ids); "
                            "comma-separated for several inputs")


def parse_shape(text: str) -> tuple[int, ...]:
    """``1,3,224,224`` (or ``1x3x224x224``) -> (1, 3, 224, 224)."""
    parts = [p for p in text.replace("x", ",").replace(" ", ",").split(",") if p]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if not shape or any(d < 0 for d in shape):
        raise NetdrawError(f"--input-shape {text!r} is not a shape; write it like 1,3,224,224")
    return shape


def model_options(args: argparse.Namespace) -> dict[str, Any]:
    """The importer options (``input_shape``, ``input_dtype``) the user gave."""
    options: dict[str, Any] = {}
    shapes = getattr(args, "input_shape", None)
    if shapes:
        options["input_shape"] = shapes[0] if len(shapes) == 1 else shapes
    dtype_text = getattr(args, "input_dtype", None)
    if dtype_text:
        dtypes = [d.strip() for d in dtype_text.split(",") if d.strip()]
        options["input_dtype"] = dtypes[0] if len(dtypes) == 1 else dtypes
    return options


def load_model(spec: str, input_shape: list[tuple[int, ...]] | None = None,
               input_dtype: str | None = None) -> Any:
    """A model argument -> Graph: a file path, ``zoo:NAME`` or ``pkg.module:factory`` (the
    same as :func:`netdraw.load`, which this calls)."""
    from netdraw.api import load

    return load(spec, **model_options(argparse.Namespace(input_shape=input_shape,
                                                         input_dtype=input_dtype)))


def load_model_from_args(args: argparse.Namespace, dest: str = "model",
                         where_taken: bool = False) -> Any:
    """The Graph of the model argument ``dest``, built with the model options given.

    ``--input-shape``/``--input-dtype`` describe a Python model's example input. Set by the
    configuration file, they are defaults for the models that take them and left out for a
    model file; ``where_taken`` (``diff A B``) does the same for typed ones, which then go
    to the side that needs them.
    """
    spec = getattr(args, dest)
    return load_model(spec, **_input_options(args, spec, where_taken))


def _input_options(args: argparse.Namespace, spec: str,
                   where_taken: bool = False) -> dict[str, Any]:
    """``input_shape`` and ``input_dtype`` for model ``spec``: without the configured (or,
    with ``where_taken``, any) ones when the model does not take them."""
    from netdraw.importers import takes_input_options
    from netdraw.settings import from_config

    out = {key: getattr(args, key, None) for key in ("input_shape", "input_dtype")}
    if not takes_input_options(spec):
        for key in out:
            if where_taken or from_config(args, key):
                out[key] = None
    return out


# -- inputs of the commands that run a model (activations, filters, cam) ------------------


def add_input_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    group = parser.add_argument_group("inputs")
    group.add_argument("--input", action="append", default=[], metavar="FILE",
                       required=required,
                       help="an image (.png .jpg .bmp) or array (.npy) to run the model on; "
                            "repeat for a batch")
    group.add_argument("--normalize", default="none", metavar="imagenet|none|MEAN,STD",
                       help="after scaling pixels to 0-1: none (default), imagenet mean/std, "
                            "or MEAN,STD (one pair, or three means and three stds)")


def open_from_args(args: argparse.Namespace) -> Any:
    """The model argument and its options -> :class:`netdraw.viz.api.OpenedModel`."""
    from netdraw.cli.common import model_options
    from netdraw.viz.api import open_model

    options = model_options(argparse.Namespace(**_input_options(args, args.model)))
    shape = options.get("input_shape")
    if isinstance(shape, list):
        raise NetdrawError("netdraw feeds one input tensor; give one --input-shape")
    dtype = options.get("input_dtype")
    return open_model(args.model, input_shape=shape,
                      input_dtype=dtype if isinstance(dtype, str) else None)


def configured_layers(args: argparse.Namespace, graph: Any) -> list[str]:
    """The ``--layer`` names for ``graph``: typed ones as given (a wrong one is an error
    later); configured ones only where they name a layer of this model."""
    from netdraw.settings import from_config
    from netdraw.viz.class_maps import resolve_layer

    if not from_config(args, "layer"):
        return list(args.layer)
    out = []
    for name in args.layer:
        try:
            resolve_layer(graph, name)
        except NetdrawError:
            continue
        out.append(name)
    return out


def read_inputs(opened: Any, args: argparse.Namespace) -> Any:
    """The ``--input`` files as a batch (:func:`report_inputs` says how they were made)."""
    from netdraw.viz.inputs import load_inputs, parse_normalize

    normalize = parse_normalize(args.normalize)
    batch = load_inputs(args.input, opened.spec, normalize)
    batch.normalize = normalize
    return batch


def report_inputs(batch: Any) -> None:
    """Say on stderr how each input was preprocessed (after the command succeeded: netdraw
    cannot know how the model was trained, so the user must see what it assumed; not with
    --quiet)."""
    from netdraw.progress import note

    for text in batch.notes:
        note(f"netdraw: input {text}")


# -- views -----------------------------------------------------------------------------


def add_view_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that choose what part of the model is drawn (shared by draw and summary)."""
    group = parser.add_argument_group("view")
    group.add_argument("--depth", type=int, metavar="N",
                       help="draw groups nested N deep as one block each (0: the whole model "
                            "as one block; default: chosen automatically)")
    group.add_argument("--expand", action="append", default=[], metavar="PATH",
                       help="draw this group open with its children open too, so their "
                            "layers show (repeatable), e.g. layer3")
    group.add_argument("--collapse", action="append", default=[], metavar="PATH",
                       help="draw this group as one block (repeatable)")
    group.add_argument("--no-roll", action="store_true",
                       help="draw repeated blocks one by one instead of once with ×N")
    group.add_argument("--fold", action="append", default=[], metavar="PATTERN",
                       help="fold chains matching PATTERN into one node, e.g. "
                            "'conv>norm>activation=ConvBNAct' (repeatable)")
    group.add_argument("--no-fold", action="store_true",
                       help="do not fold the default patterns (Conv→BN→act, Dense→act, …); "
                            "--fold patterns still apply")
    group.add_argument("--keep-all", action="store_true",
                       help="show plumbing: dropout, identity, casts, shape arithmetic")
    group.add_argument("--max-nodes", type=int, default=40, metavar="N",
                       help="node budget of the default view (default: 40)")
    group.add_argument("--full", action="store_true",
                       help="draw every node: all depths, nothing rolled, folded or hidden")


def view_options(args: argparse.Namespace):  # -> ViewOptions (imported lazily)
    from netdraw.api import view_options as make

    full, depth = args.full, args.depth
    if full and depth is not None:
        from netdraw.settings import from_config

        if from_config(args, "full") and not from_config(args, "depth"):
            full = False  # --depth typed on the command line wins over full = true
        elif from_config(args, "depth") and not from_config(args, "full"):
            depth = None
        else:
            raise NetdrawError("--full draws every level; drop --depth or --full")
    from netdraw.settings import from_config

    # Configured paths are project defaults: a model without such a group ignores them.
    optional = frozenset(k for k in ("expand", "collapse") if from_config(args, k))
    return make(full=full, depth=depth, expand=args.expand, collapse=args.collapse,
                roll=not args.no_roll, fold=not args.no_fold, fold_patterns=args.fold,
                keep_all=args.keep_all, max_nodes=args.max_nodes,
                hide=getattr(args, "hide", None) or (),
                renames=getattr(args, "label", None) or (),
                optional=optional or None)


def warn_view(view) -> None:
    """Print the view's warnings (``--full`` on a very wide graph) before it is drawn."""
    for warning in (view.meta.get("view") or {}).get("warnings") or []:
        print(f"netdraw: warning: {warning}", file=sys.stderr, flush=True)


def report_view(view, more: str = "") -> None:
    """Say on stderr which view was drawn, when netdraw chose it, how a figure style's
    drawing fits its print width, and which parameters the traced forward never read (not
    with --quiet); ``more`` ends the line about the view."""
    from netdraw.describe import unused_note
    from netdraw.passes import describe_view
    from netdraw.progress import note

    info = view.meta.get("view") or {}
    unused = unused_note(view)
    if info.get("auto") or info.get("figure"):
        note(f"netdraw: {describe_view(view)}{more}" + (f"; {unused}" if unused else ""))
    elif unused:
        note(f"netdraw: {unused}")


# -- outputs ---------------------------------------------------------------------------


#: Suffixes that name the same format.
_SAME_FORMAT = {"gv": "dot"}


def output_format(output: str, explicit: str | None) -> str:
    """The format to write: the suffix of ``output``, or ``explicit`` (``--format``) for
    standard output (``-o -``) or a file without a suffix; a ``--format`` that contradicts
    the suffix is refused."""
    suffix = "" if output == "-" else Path(output).suffix.lower().lstrip(".")
    if explicit:
        fmt = explicit.lower().lstrip(".")
        if suffix and _SAME_FORMAT.get(fmt, fmt) != _SAME_FORMAT.get(suffix, suffix):
            raise NetdrawError(f"--format {fmt} contradicts the suffix of {output!r} (.{suffix}):"
                               f" the suffix chooses the format, so drop --format, or write "
                               f"-o {Path(output).with_suffix('.' + fmt)}")
        return fmt
    if output == "-":
        return "dot"
    if not suffix:
        raise NetdrawError(f"cannot tell the output format of {output!r}: give it a suffix "
                           "such as .svg, .png, .pdf, .dot or .json")
    return suffix
