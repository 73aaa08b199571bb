"""``netdraw diff A B --summary``: the table of changes, as text, Markdown or LaTeX.

Rows are the nodes of the union's view (the same view the drawing shows; ``--full`` for
every layer) that are not the same — changed, reshaped (shapes follow a change
upstream), added, removed — plus renamed layers, then the totals of both models and how
the nodes were matched. Exit status of the command: 0 when the models are the same
architecture, 1 when they differ.
"""

from __future__ import annotations

from typing import Any

from netdraw.describe import format_count
from netdraw.diff.result import DiffResult
from netdraw.diff.view import view_statuses
from netdraw.errors import NetdrawError
from netdraw.ir import Graph
from netdraw.latex import escape as tex_escape
from netdraw.summary import kind_text as _kind_text
from netdraw.summary import md_escape as _md

FORMATS = ("text", "markdown", "latex")
HEADER = ("Status", "Layer", "Kind", "Change", "Params A", "Params B")


def _count(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def _delta(a: int, b: int) -> str:
    if a == b:
        return "same"
    sign = "+" if b > a else "-"
    return f"{sign}{abs(b - a):,}"


def rows(result: DiffResult, view: Graph | None = None, equivalent: bool = False,
         **view_options: Any) -> list[tuple[str, ...]]:
    """One row per view node that is not the same (``view``: a view of ``result.union``;
    made from ``view_options`` when not given). A node whose members changed only their
    names is ``renamed``; with ``equivalent``, one whose differences a known exporter
    rewrite accounts for is ``equivalent`` (and listed even when it is the same)."""
    if view is None:
        from netdraw.diff.draw import _options, union_view

        options, _ = _options(dict(view_options))
        view = union_view(result, options, legend=False)
    statuses = view_statuses(view, result)
    out: list[tuple[str, ...]] = []
    for nid, node in view.nodes.items():
        status = statuses[nid]
        members = _members(result, node)
        explained = equivalent and bool(members) and all(
            m.explanation and m.status != "changed" for m in members if m.status != "same") \
            and any(m.explanation for m in members)
        if status.label == "same" and not explained:
            continue
        change = "; ".join(status.notes)
        label = status.label
        changed = [m for m in members if m.status != "same"]
        if changed and all(m.renamed_only for m in changed):
            label = "renamed"
            change = "; ".join(m.note for m in changed[:2]) + ("; …" if len(changed) > 2
                                                               else "")
        elif explained:
            label = "equivalent"
            change = "; ".join(dict.fromkeys(m.explanation for m in members
                                             if m.explanation))
        if not change and members and members[0].explanation:
            change = members[0].explanation
        a = None if status.label == "added" else status.params_a
        b = None if status.label == "removed" else status.params_b
        out.append((label, node.name, _kind_text(node), change, _count(a), _count(b)))
    return out


def _members(result: DiffResult, node: Any) -> list[Any]:
    """The diff records of the union nodes a view node stands for: itself, the layers
    folded into it, or every layer inside its block or rolled run."""
    if node.id in result.nodes:
        folded = node.attrs.get("folded")
        ids = [node.id, *(f.get("id") for f in folded if isinstance(f, dict))] \
            if isinstance(folded, list) else [node.id]
        return [result.nodes[i] for i in ids if i in result.nodes]
    paths = [tuple(p) for p in (node.attrs.get("paths") or [node.attrs.get("path")])
             if isinstance(p, (list, tuple))]
    return [rec for rec in result.nodes.values()
            if any(rec.group[:len(p)] == p for p in paths if p)]


def totals(result: DiffResult) -> list[tuple[str, str, str, str]]:
    """(what, A, B, difference) for parameters and MACs."""
    pa, pb = result.params
    ma, mb = result.macs
    return [("Params", f"{pa:,}", f"{pb:,}", _delta(pa, pb)),
            ("MACs", format_count(ma), format_count(mb),
             "same" if ma == mb else ("+" if mb > ma else "-") + format_count(abs(mb - ma)))]


def verdict(result: DiffResult, equivalent: bool = False) -> str:
    """One line: same architecture or not (a rename is a change: weights saved under the
    old names no longer load; with ``equivalent``, the differences known exporter
    rewrites account for are listed as such), counts, and how the nodes were matched."""
    c = result.counts()
    renamed = sum(1 for n in result.nodes.values() if n.renamed_only)
    c["changed"] -= renamed
    names = ", ".join(f"{a} → {b}" for a, b in result.renames)
    if result.same:
        head = "same architecture"
    elif equivalent and result.equivalent:
        n = len(result.equivalences())
        head = (f"equivalent: the same architecture up to {n} difference"
                f"{'s' if n != 1 else ''} known exporter rewrites account for")
    elif result.same_architecture:
        head = f"same architecture, renamed {names} (weights saved under the old names " \
               "do not load)"
    else:
        head = "architectures differ" + (f"; renamed {names}" if names else "")
    explained = 0
    if equivalent:  # the differences known rewrites account for are counted as such
        for n in result.nodes.values():
            if n.explanation and n.status in ("added", "removed"):
                c[n.status] -= 1
                explained += 1
    parts = [f"{c[k]} {k}" for k in ("changed", "reshaped", "added", "removed") if c[k]]
    if renamed:
        parts.append(f"{renamed} renamed")
    if explained:
        parts.append(f"{explained} equivalent")
    parts.append(f"{c['same']} same")
    m = result.matched
    pairs = sum(m.values())
    match = (f"{pairs} matched pairs: {pairs} of A's {result.sizes[0]} nodes, {pairs} of "
             f"B's {result.sizes[1]} ({m.get('name', 0)} by name, "
             f"{m.get('structure', 0)} by structure)")
    return f"{head}: {', '.join(parts)}; {match}"


def table(result: DiffResult, fmt: str = "text", view: Graph | None = None,
          equivalent: bool = False, **view_options: Any) -> str:
    """The table of changes of ``result`` in ``fmt`` (``text``, ``markdown``, ``latex``);
    ``equivalent`` lists the differences known exporter rewrites account for as
    ``equivalent`` rows and says so in the verdict."""
    if fmt not in FORMATS:
        raise NetdrawError(f"unknown summary format {fmt!r}; choose one of {', '.join(FORMATS)}")
    body = rows(result, view, equivalent, **view_options)
    last = verdict(result, equivalent)
    return {"text": _text, "markdown": _markdown, "latex": _latex}[fmt](result, body, last)


def _clean(value: str) -> str:
    return " ".join(str(value).split())


def _text(result: DiffResult, body: list[tuple[str, ...]], last: str) -> str:
    lines = [_clean(f"A: {result.name_a}   B: {result.name_b}")]
    if body:
        data = [tuple(_clean(c) for c in row) for row in [HEADER, *body]]
        widths = [max(len(row[i]) for row in data) for i in range(len(HEADER))]
        right = (False, False, False, False, True, True)

        def line(row: tuple[str, ...]) -> str:
            return "  ".join(c.rjust(w) if r else c.ljust(w)
                             for c, w, r in zip(row, widths, right, strict=True)).rstrip()

        lines += [line(data[0]), "  ".join("-" * w for w in widths)]
        lines += [line(row) for row in data[1:]]
    else:
        lines.append("no changes")
    lines.append("")
    tot = [("", "A", "B", "Difference"), *totals(result)]
    widths = [max(len(r[i]) for r in tot) for i in range(4)]
    for row in tot:
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True)))
                     .rstrip())
    lines.append("")
    lines.append(_clean(last))
    return "\n".join(lines) + "\n"


def _markdown(result: DiffResult, body: list[tuple[str, ...]], last: str) -> str:
    lines = [f"**A:** {_md(result.name_a)} · **B:** {_md(result.name_b)}", ""]
    if body:
        lines += ["| " + " | ".join(HEADER) + " |", "|:--|:--|:--|:--|--:|--:|"]
        lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in body]
    else:
        lines.append("No changes.")
    lines += ["", "| | A | B | Difference |", "|:--|--:|--:|--:|"]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in totals(result)]
    lines += ["", _md(last)]
    return "\n".join(lines) + "\n"


def _latex(result: DiffResult, body: list[tuple[str, ...]], last: str) -> str:
    lines = [f"% {tex_escape(result.name_a)} vs {tex_escape(result.name_b)}: "
             "changes (netdraw diff --summary; needs \\usepackage{booktabs})",
             # the change wraps, so the table fits an article's text width
             r"\begin{tabular}{lllp{4.2cm}rr}", r"\toprule",
             " & ".join(HEADER) + r" \\", r"\midrule"]
    for row in body:
        lines.append(" & ".join(tex_escape(c) for c in row) + r" \\")
    if not body:
        lines.append(r"\multicolumn{6}{l}{no changes} \\")
    lines.append(r"\midrule")
    for what, a, b, d in totals(result):
        lines.append(f"\\textbf{{{what}}} & & & {tex_escape(d)} & {tex_escape(a)} & "
                     f"{tex_escape(b)} \\\\")
    lines += [r"\bottomrule", r"\end{tabular}",
              f"% {tex_escape(last)}"]
    return "\n".join(lines) + "\n"
