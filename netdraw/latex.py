"""LaTeX plumbing: escaping user text, running ``pdflatex`` and ``pdftoppm``.

Every user string that reaches a ``.tex`` file goes through :func:`escape`, which turns it
into plain text for pdflatex's default OT1 fonts: the ten special characters become their
text commands, unicode letters with accents become accent commands, a few symbols become
math symbols, and anything else is written as ``<U+XXXX>``, so no layer name can run a
command or stop the compile.

>>> escape("conv_1 {50%}")
'conv\\\\_1 \\\\{50\\\\%\\\\}'
>>> escape("Ä×2")
'\\\\"{A}$\\\\times$2'
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

from netdraw import tools
from netdraw.errors import NetdrawError
from netdraw.progress import task

TEXLIVE_PACKAGES = ("texlive-latex-base texlive-latex-recommended texlive-latex-extra "
                    "texlive-pictures")


class Tex(str):
    """A string that already is LaTeX source; templates insert it without escaping."""

    __slots__ = ()


_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "$": r"$\$$", "#": r"\#",
    "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}", "&": r"\&",
    # OT1 fonts print these as other glyphs (¡ ¿ —) unless spelled out; only OT1/OML/OMS
    # glyphs are used, so no TS1 font has to be made as a bitmap.
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
    # Quotes and dashes that TeX would ligature or curl.
    '"': r"{\textquotedblright}", "`": r"\`{}", "'": r"{\textquoteright}",
    "-": "-{}",
}
_SYMBOLS = {
    "×": r"$\times$", "·": r"$\cdot$", "→": r"$\rightarrow$", "←": r"$\leftarrow$",
    "…": r"\ldots{}", "−": r"$-$", "–": "--{}", "—": "---{}", "±": r"$\pm$", "°": r"$^\circ$",
    "µ": r"$\mu$", "≤": r"$\leq$", "≥": r"$\geq$", "≠": r"$\neq$", "√": r"$\surd$",
    "∑": r"$\Sigma$", "⊕": r"$\oplus$", "⊗": r"$\otimes$", "‖": r"$\Vert$",
    "“": "``", "”": "''", "‘": "`", "’": "'", "«": r"$\ll$", "»": r"$\gg$",
    "ß": r"{\ss}", "æ": r"{\ae}", "Æ": r"{\AE}", "ø": r"{\o}", "Ø": r"{\O}",
    "œ": r"{\oe}", "Œ": r"{\OE}", "å": r"{\aa}", "Å": r"{\AA}", "ł": r"{\l}", "Ł": r"{\L}",
    "ı": r"{\i}", "¡": r"!`", "¿": r"?`", "§": r"{\S}", "¶": r"{\P}", "©": r"{\copyright}",
    "\u00a0": "~",
}
_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron "
          "pi rho sigma sigma tau upsilon phi chi psi omega").split()
_GREEK_UPPER = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi",
                "Psi", "Omega"}
_ACCENTS = {
    "\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0306": "u",
    "\u0307": ".", "\u0308": '"', "\u030a": "r", "\u030b": "H", "\u030c": "v", "\u0327": "c",
    "\u0328": "k", "\u0323": "d",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _greek(ch: str) -> str | None:
    code = ord(ch)
    if 0x3B1 <= code <= 0x3C9 and code != 0x3C2:
        name = _GREEK[code - 0x3B1]
        return "$o$" if name == "omicron" else f"$\\{name}$"
    if 0x391 <= code <= 0x3A9 and code != 0x3A2:
        name = _GREEK[code - 0x391].capitalize()
        if name in _GREEK_UPPER:
            return f"$\\{name}$"
        return {"Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H",
                "Iota": "I", "Kappa": "K", "Mu": "M", "Nu": "N", "Omicron": "O", "Rho": "P",
                "Tau": "T", "Chi": "X"}.get(name, "?")
    return None


def _char(ch: str) -> str:
    if ch in _SPECIAL:
        return _SPECIAL[ch]
    if " " <= ch <= "~":
        return ch
    if ch in _SYMBOLS:
        return _SYMBOLS[ch]
    greek = _greek(ch)
    if greek is not None:
        return greek
    decomposed = unicodedata.normalize("NFKD", ch)
    base, marks = decomposed[:1], decomposed[1:]
    if base and " " < base <= "~" and base not in _SPECIAL and marks \
            and all(m in _ACCENTS for m in marks):
        out = f"{{\\{base}}}" if base in "ij" else base  # dotless i/j under an accent
        for mark in marks:
            out = f"\\{_ACCENTS[mark]}{{{out}}}"
        return out
    if decomposed != ch and all(" " <= c <= "~" for c in decomposed):
        return "".join(_char(c) for c in decomposed)  # ligatures, full-width forms, ²…
    return f"\\textless{{}}U+{ord(ch):04X}\\textgreater{{}}"


def printed_width(text: str) -> float:
    """Roughly how many average characters :func:`escape` prints for ``text`` (a character
    written as ``<U+XXXX>`` counts 8, a wide one such as ``×`` or ``M`` 1.4)."""
    width = 0.0
    for ch in text:
        if " " <= ch <= "~":
            width += 1.4 if ch in "MWmw@%&" else (0.6 if ch in "il.,;:'|!()[]" else 1.0)
        elif ch in _SYMBOLS or _greek(ch) is not None:
            width += 1.4 if ch in "×→←⊕⊗" else 1.0
        else:
            out = _char(ch)
            width += 1.0 if not out.startswith("\\textless") else len(f"<U+{ord(ch):04X}>")
    return width


def clean(text: object, limit: int | None = None) -> str:
    """One line of plain text: control characters dropped, runs of space joined, shortened."""
    s = " ".join(_CONTROL.sub(" ", str(text)).split())
    if limit is not None and len(s) > limit:
        s = s[: max(1, limit - 1)].rstrip() + "…"
    return s


def escape(text: object, limit: int | None = None) -> Tex:
    """``text`` as LaTeX source that prints it literally (see the module docstring)."""
    return Tex("".join(_char(ch) for ch in clean(text, limit)))


# -- running TeX ------------------------------------------------------------------------


def pdflatex_path() -> str:
    """The ``pdflatex`` executable, or a NetdrawError saying how to install it."""
    exe = shutil.which("pdflatex")
    if exe is None:
        raise NetdrawError(
            "writing PDF from TikZ needs 'pdflatex', which is not installed: run 'sudo apt-get "
            f"install {TEXLIVE_PACKAGES}' (Debian/Ubuntu; TeX Live or MiKTeX elsewhere), or "
            "write .tex and compile it yourself")
    return exe


def compile_pdf(source: str, timeout: float | str | None = None,
                files: dict[str, bytes] | None = None) -> bytes:
    """Compile a standalone LaTeX document with one ``pdflatex`` run; returns the PDF bytes.

    Runs with ``-no-shell-escape -halt-on-error`` in a private temporary folder, within the
    time limit of :func:`netdraw.tools.time_limit`; ``files`` (relative path -> bytes,
    e.g. the figure's images) are written there first.
    """
    exe = pdflatex_path()
    with tempfile.TemporaryDirectory(prefix="netdraw-tex-") as tmp:
        for rel, data in (files or {}).items():
            path = Path(tmp, rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        tex = Path(tmp) / "figure.tex"
        tex.write_text(source, encoding="utf-8")
        env = dict(os.environ, openout_any="p", openin_any="p")
        cmd = [exe, "-no-shell-escape", "-halt-on-error", "-interaction=nonstopmode",
               "-file-line-error", "figure.tex"]
        with task("pdflatex"):
            proc = tools.run(cmd, program="pdflatex", cwd=tmp, env=env, timeout=timeout)
        pdf = Path(tmp) / "figure.pdf"
        if proc.returncode != 0 or not pdf.is_file():
            log = (Path(tmp) / "figure.log")
            text = log.read_text("utf-8", "replace") if log.is_file() else \
                proc.stdout.decode("utf-8", "replace")
            raise NetdrawError(f"pdflatex failed: {first_tex_error(text)}; write .tex to "
                               "inspect the source (please report this as a netdraw bug)")
        return pdf.read_bytes()


def first_tex_error(log: str) -> str:
    """The first ``! ...`` error line of a TeX log (or its last line)."""
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("!") or re.match(r"^[^:]+:\d+: ", line):
            detail = line.lstrip("! ").strip()
            context = next((ln.strip() for ln in lines[i + 1:i + 3] if ln.startswith("l.")), "")
            return clean(f"{detail} {context}".strip(), 200)
    return clean(lines[-1] if lines else "no log", 200)


def rasterise(pdf: bytes, fmt: str = "png", dpi: int = 150,
              timeout: float | str | None = None) -> bytes:
    """The first page of a PDF as PNG (or PPM with ``fmt="ppm"``) through ``pdftoppm``."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise NetdrawError("writing PNG from TikZ needs 'pdftoppm', which is not installed: "
                           "run 'sudo apt-get install poppler-utils', or write .pdf instead")
    flag = {"png": ["-png"], "ppm": []}[fmt]
    with tempfile.TemporaryDirectory(prefix="netdraw-ppm-") as tmp:
        src = Path(tmp) / "figure.pdf"
        src.write_bytes(pdf)
        proc = tools.run([exe, *flag, "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile",
                          str(src), str(Path(tmp) / "page")], program="pdftoppm",
                         timeout=timeout)
        out = Path(tmp) / f"page.{fmt}"
        if proc.returncode != 0 or not out.is_file():
            detail = clean(proc.stderr.decode("utf-8", "replace"), 200)
            raise NetdrawError(f"pdftoppm failed: {detail or 'no output'}")
        return out.read_bytes()
