"""``netdraw summary``: a table of layers (or blocks) with output shapes, parameters and MACs.

Three formats: aligned ``text`` for the terminal, ``markdown`` (a pipe table) and ``latex``
(a booktabs ``tabular`` to put next to a figure; needs ``\\usepackage{booktabs}``). The rows
are the nodes of the view (the same view a drawing shows), so their parameters and MACs add
up to the model's totals, which the last row gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netdraw.describe import output_spec, shape_text, shared_note
from netdraw.errors import NetdrawError
from netdraw.ir import Graph, Node, folded_layers, unused_params
from netdraw.passes.macs import add_macs, format_macs

FORMATS = ("text", "markdown", "latex")
HEADER = ("Layer", "Kind", "Output shape", "Params", "MACs")


@dataclass(frozen=True)
class Row:
    name: str
    kind: str
    shape: str
    params: int
    macs: int | str | None  # a formula when it depends on a symbolic dimension


def kind_text(node: Node) -> str:
    """``conv`` / ``conv+norm+relu`` for a folded node / ``Bottleneck ×5`` for a block."""
    if node.kind == "block":
        repeat = node.attrs.get("repeat")
        return f"{node.op_type} ×{repeat}" if repeat else node.op_type
    folded = folded_layers(node)
    if folded:
        parts = [node.kind]
        for f in folded:
            kind = str(f.get("kind", ""))
            if kind in ("activation", "softmax"):
                attrs = f.get("attrs") if isinstance(f.get("attrs"), dict) else {}
                kind = str(attrs.get("activation") or f.get("op_type") or kind)
                kind = kind.lower()
            parts.append(kind)
        return "+".join(parts)
    return node.kind


def rows(graph: Graph) -> list[Row]:
    out = []
    for node in graph.nodes.values():
        if node.kind == "output":
            continue
        spec = output_spec(node)
        shape = shape_text(spec) if spec is not None else ""
        note = shared_note(node)
        name = f"{node.name} ({note})" if note else node.name
        out.append(Row(name, kind_text(node), shape, node.params,
                       add_macs(None, node.attrs.get("macs"))))
    return out


def table_cells(graph: Graph) -> tuple[list[tuple[str, ...]], tuple[str, ...]]:
    """The table's rows as text cells (columns :data:`HEADER`) and its total row. Parameters
    the traced forward never read get a row of their own, so the total is the model's."""
    body = rows(graph)
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


def table(graph: Graph, fmt: str = "text") -> str:
    """The summary table of ``graph`` (usually a view) in ``fmt``."""
    if fmt not in FORMATS:
        raise NetdrawError(f"unknown summary format {fmt!r}; choose one of {', '.join(FORMATS)}")
    cells, total = table_cells(graph)
    return {"text": _text, "markdown": _markdown, "latex": _latex}[fmt](graph, cells, total)


def _clean(value: str) -> str:
    return " ".join(value.split())


def _text(graph: Graph, cells: list[tuple[str, ...]], total: tuple[str, ...]) -> str:
    data = [tuple(_clean(c) for c in row) for row in [HEADER, *cells, total]]
    widths = [max(len(row[i]) for row in data) for i in range(len(HEADER))]
    right = (False, False, False, True, True)

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


def _markdown(graph: Graph, cells: list[tuple[str, ...]], total: tuple[str, ...]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|:--|:--|:--|--:|--:|"]
    for row in cells:
        lines.append("| " + " | ".join(md_escape(c) for c in row) + " |")
    name, _, _, params, macs = total
    lines.append(f"| **{name}** | | | **{params}** | **{md_escape(macs)}** |")
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


def _latex(graph: Graph, cells: list[tuple[str, ...]], total: tuple[str, ...]) -> str:
    lines = [
        f"% {tex_escape(graph.name)}: layers, output shapes, parameters and MACs "
        "(netdraw summary; needs \\usepackage{booktabs})",
        r"\begin{tabular}{llrrr}",
        r"\toprule",
        " & ".join(HEADER) + r" \\",
        r"\midrule",
    ]
    for name, kind, shape, params, macs in cells:
        lines.append(f"{tex_escape(name)} & {tex_escape(kind)} & {tex_escape(shape)} & "
                     f"{params} & {tex_escape(macs)} \\\\")
    lines.append(r"\midrule")
    lines.append(f"\\textbf{{Total}} & & & \\textbf{{{total[3]}}} & "
                 f"\\textbf{{{tex_escape(total[4])}}} \\\\")
    lines.append(r"\bottomrule")
    lines.append(r"\end{tabular}")
    return "\n".join(lines) + "\n"
