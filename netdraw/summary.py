"""``netdraw summary``: a table of layers (or blocks) with output shapes, parameters and MACs.

Three formats: aligned ``text`` for the terminal, ``markdown`` (a pipe table) and ``latex``
(for a paper: a booktabs ``tabularx`` as wide as the line — a column or the text — whose
layer names break at their dots, shapes without the batch axis; a table of more than
:data:`LONG_TABLE` rows is a ``longtable`` that breaks across pages; needs
``\\usepackage{booktabs,tabularx,longtable}``). ``columns`` chooses the columns
(:data:`COLUMNS`; ``name,shape,params`` fits a column). The rows are the nodes of the view
(the same view a drawing shows), so their parameters and MACs add up to the model's totals,
which the last row gives. Kinds are named as the figures' legends name them
(:data:`netdraw.describe.KIND_NAMES`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netdraw.describe import (
    block_text,
    fold_suffix,
    kind_name,
    output_spec,
    shape_text,
    shared_note,
)
from netdraw.errors import NetdrawError
from netdraw.ir import Graph, Node, folded_layers, unused_params
from netdraw.passes.macs import add_macs, format_macs

FORMATS = ("text", "markdown", "latex")
HEADER = ("Layer", "Kind", "Output shape", "Params", "MACs")
#: Column names for ``columns`` (``--columns``), in :data:`HEADER`'s order.
COLUMNS = ("name", "kind", "shape", "params", "macs")
#: A LaTeX table longer than this many rows is a ``longtable`` (it breaks across pages).
LONG_TABLE = 40


@dataclass(frozen=True)
class Row:
    name: str
    kind: str
    shape: str
    params: int
    macs: int | str | None  # a formula when it depends on a symbolic dimension


def kind_text(node: Node) -> str:
    """``Convolution`` / ``Convolution +BN+relu`` for a folded node (as its box says) /
    ``Bottleneck ×5`` for a block."""
    if node.kind == "block":
        return block_text(node)
    suffix = fold_suffix(node)
    return f"{kind_name(node.kind)} {suffix}" if suffix else kind_name(node.kind)


def rows(graph: Graph, batch: bool = True) -> list[Row]:
    out = []
    for node in graph.nodes.values():
        if node.kind == "output":
            continue
        spec = output_spec(node)
        note = shared_note(node)
        name = f"{node.name} ({note})" if note else node.name
        shape = shape_text(spec, batch) if spec is not None else ""
        out.append(Row(name, kind_text(node), shape, node.params,
                       add_macs(None, node.attrs.get("macs"))))
    return out


def parse_columns(spec: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """``name,shape,params`` -> the columns (:data:`COLUMNS`) in that order; None: all."""
    if not spec:
        return COLUMNS
    names = [c.strip().lower() for c in (spec.split(",") if isinstance(spec, str) else spec)
             if c.strip()]
    bad = [c for c in names if c not in COLUMNS]
    if bad or not names or len(set(names)) != len(names):
        raise NetdrawError(f"--columns takes a comma list of {', '.join(COLUMNS)} (each once), "
                           f"not {spec!r}")
    return tuple(names)


def table_cells(graph: Graph, batch: bool = True
                ) -> tuple[list[tuple[str, ...]], tuple[str, ...]]:
    """The table's rows as text cells (columns :data:`HEADER`) and its total row. Parameters
    the traced forward never read get a row of their own, so the total is the model's."""
    body = rows(graph, batch)
    unused = unused_params(graph)
    if unused:
        names = [name for name in unused if name]
        label = "(not used in this forward" + (": " + ", ".join(names[:3]) if names else "") \
            + (f" and {len(names) - 3} more" if len(names) > 3 else "") + ")"
        body.append(Row(label, "", "", sum(unused.values()), None))
    total_params = sum(r.params for r in body)
    total_macs = None
    for r in body:
        total_macs = add_macs(total_macs, r.macs)
    cells = [(r.name, r.kind, r.shape, f"{r.params:,}", format_macs(r.macs)) for r in body]
    return cells, ("Total", "", "", f"{total_params:,}", format_macs(total_macs))


def table(graph: Graph, fmt: str = "text",
          columns: str | list[str] | tuple[str, ...] | None = None) -> str:
    """The summary table of ``graph`` (usually a view) in ``fmt``, with ``columns``
    (:func:`parse_columns`; default all)."""
    if fmt not in FORMATS:
        raise NetdrawError(f"unknown summary format {fmt!r}; choose one of {', '.join(FORMATS)}")
    keep = [COLUMNS.index(c) for c in parse_columns(columns)]
    cells, total = table_cells(graph, batch=fmt != "latex")
    pick = [tuple(row[i] for i in keep) for row in cells]
    header = tuple(HEADER[i] for i in keep)
    numeric = tuple(COLUMNS[i] in ("params", "macs") for i in keep)
    return {"text": _text, "markdown": _markdown, "latex": _latex}[fmt](
        graph, header, numeric, pick, tuple(total[i] for i in keep))


def _clean(value: str) -> str:
    return " ".join(value.split())


def _text(graph: Graph, header: tuple[str, ...], right: tuple[bool, ...],
          cells: list[tuple[str, ...]], total: tuple[str, ...]) -> str:
    data = [tuple(_clean(c) for c in row) for row in [header, *cells, total]]
    widths = [max(len(row[i]) for row in data) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w)
                         for c, w, r in zip(row, widths, right, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    note = params_note(graph)  # above the table: the totals stay its last line
    lines = [f"{_clean(graph.name)}", *([f"note: {note}"] if note else []), line(data[0]),
             rule]
    lines += [line(row) for row in data[1:-1]]
    lines += [rule, line(data[-1])]
    return "\n".join(lines) + "\n"


def params_note(graph: Graph) -> str:
    """Why the same network's parameter count differs by framework, when it does: BatchNorm
    holds 4 numbers per channel, of which PyTorch counts 2 (γ, β; the running statistics
    are buffers) and Keras and ONNX 4; ONNX exports usually fold BatchNorm away."""
    def is_bn(op_type: str) -> bool:
        return "batchnorm" in op_type.lower().replace("_", "")

    if not any(is_bn(n.op_type) or any(is_bn(str(f.get("op_type", "")))
                                      for f in folded_layers(n))
               for n in graph.nodes.values()):
        return ""
    if graph.meta.get("framework") == "torch":
        return ("Params are PyTorch's parameters; BatchNorm's running mean and variance are "
                "buffers, not counted (Keras and ONNX count them: 2 more per channel)")
    return ("Params include BatchNorm's running mean and variance (2 per channel, not "
            "trained; PyTorch does not count them)")


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|])")


def md_escape(value: str) -> str:
    """Escape text for a Markdown table cell (one line, Markdown specials escaped)."""
    return _MD_SPECIAL.sub(r"\\\1", _clean(value))


def _markdown(graph: Graph, header: tuple[str, ...], right: tuple[bool, ...],
              cells: list[tuple[str, ...]], total: tuple[str, ...]) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("--:" if r else ":--" for r in right) + "|"]
    for row in cells:
        lines.append("| " + " | ".join(md_escape(c) for c in row) + " |")
    lines.append("| " + " | ".join(f"**{md_escape(c)}**" if c else "" for c in total) + " |")
    return "\n".join(lines) + "\n"


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
        "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
        "|": r"\textbar{}", "×": r"$\times$", "–": "--", "…": r"\ldots{}", "·": r"$\cdot$",
        **{sup: f"\\textsuperscript{{{digit}}}" for digit, sup in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")}}


def tex_escape(value: str) -> str:
    """Escape text for LaTeX (ASCII only out: other characters become ``?``)."""
    out = []
    for ch in _clean(value):
        if ch in _TEX:
            out.append(_TEX[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)


def _breakable(value: str) -> str:
    """Escaped text that may break after its dots, underscores, slashes and dashes (a layer
    name in a narrow column)."""
    return re.sub(r"(\.|\\_|/|--)(?=.)", r"\1\\allowbreak{}", tex_escape(value))


def _latex(graph: Graph, header: tuple[str, ...], right: tuple[bool, ...],
           cells: list[tuple[str, ...]], total: tuple[str, ...]) -> str:
    long = len(cells) > LONG_TABLE
    wrap = r">{\raggedright\arraybackslash}"
    # Names and kinds take what the other columns leave and break at their dots; a
    # longtable (no X columns) gives them fixed shares of the line.
    share = {"Layer": r"p{0.34\linewidth}", "Kind": r"p{0.2\linewidth}"}
    spec = "".join(
        wrap + (share[h] if long else "X") if h in share else ("r" if r else "l")
        for h, r in zip(header, right, strict=True))
    env = "longtable" if long else "tabularx"
    opening = rf"\begin{{longtable}}{{@{{}}{spec}@{{}}}}" if long else \
        rf"\begin{{tabularx}}{{\linewidth}}{{@{{}}{spec}@{{}}}}"
    head = " & ".join(header) + r" \\"
    lines = [
        f"% {tex_escape(graph.name)}: layers, output shapes (without the batch axis), "
        "parameters and MACs (netdraw summary;",
        "% needs \\usepackage{booktabs,tabularx" + (",longtable" if long else "") + "})",
        (r"{\footnotesize" if long else r"{\small") + r"\setlength{\tabcolsep}{4pt}",
        opening,
        r"\toprule",
        head,
        r"\midrule",
    ]
    if long:
        lines += [r"\endfirsthead", r"\toprule", head, r"\midrule", r"\endhead",
                  r"\midrule", rf"\multicolumn{{{len(header)}}}{{r@{{}}}}{{\emph{{continued}}}} \\",
                  r"\endfoot", r"\endlastfoot"]
    for row in cells:
        out = [_breakable(c) if header[i] in share else tex_escape(c)
               for i, c in enumerate(row)]
        lines.append(" & ".join(out) + r" \\")
    lines.append(r"\midrule")
    lines.append(" & ".join(rf"\textbf{{{tex_escape(c)}}}" if c else "" for c in total)
                 + r" \\")
    lines.append(r"\bottomrule")
    lines.append(rf"\end{{{env}}}}}")
    return "\n".join(lines) + "\n"
