"""netdraw.latex against its consumers: what pdflatex prints (read back with pdftotext), the
error pdflatex reports, the picture pdftoppm makes; widths and clean-up by hand count.

One pdflatex run for the whole text table, so the file takes a few seconds.
"""

from __future__ import annotations

import struct
import subprocess
import unicodedata
from pathlib import Path

import pytest
from conftest import require_tool

from netdraw import latex
from netdraw.errors import NetdrawError
from netdraw.latex import clean, compile_pdf, escape, first_tex_error, printed_width, rasterise

# What a reader of the PDF sees for each name (pdftotext's reading, written out by hand).
# pdftotext spells a few glyphs its own way: ˆ ˜ for the text accents, ◦ for a degree,
# ϵ ϕ µ for TeX's epsilon, phi and mu, ≪ ≫ for \ll \gg; those are written as it reads them.
PRINTED = [
    ("a\\b{c}d%e$f#g_h^i~j&k", "a\\b{c}d%e$f#g hˆi˜j&k"),  # pdftotext reads _ as a space
    ("x<y>z|w", "x<y>z|w"),
    ("a-b--c---d", "a-b--c---d"),  # hyphens stay hyphens, no en or em dash
    ("en–dash—em", "en–dash—em"),
    ("–—", "–—"),  # an en dash then an em dash, not one long dash and a short one
    ("5×3·2→1←0…", "5×3·2→1←0. . ."),
    ("−±µ≤≥", "−±µ≤≥"),
    ("“q” ‘s’ «g»", "“q” ‘s’ ≪g≫"),
    ("ßæÆøØœŒåÅı¡¿§¶©", "ßæÆøØœŒåÅı¡¿§¶©"),
    ("non\u00a0break", "non break"),
    ("αβγδεζηθικλμνξοπρστυφχψω", "αβγδϵζηθικλµνξoπρστυϕχψω"),
    ("ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ", "ABΓ∆EZHΘIKΛMNΞOΠPΣTΥΦXΨΩ"),
    ("éèêëñçüǎőķ", "éèêëñçüǎőķ"),
    ("ﬁx² Ａ", "fix2 A"),
    ("中文", "<U+4E2D><U+6587>"),
    ("tab\there\x01ctl\x7f", "tab here ctl"),
    ("ς", "<U+03C2>"),  # final sigma has no OT1 glyph
    ("ϊΪ΢", "<U+03CA><U+03AA><U+03A2>"),  # just past omega and Omega; the unassigned U+03A2
    ("ÉÖÑ", "ÉÖÑ"),  # capitals take accents too
    ("´΅", "<U+00B4><U+0385>"),  # an accent on a space is no letter
    ("íï", "´ı¨ı"),  # the accent sits on a dotless i (pdftotext reads accent, then ı)
    ("～", "˜"),  # full-width tilde: the tilde
]


def _pdftotext(pdf: bytes, tmp_path: Path) -> list[str]:
    require_tool("pdftotext")
    path = tmp_path / "names.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True,
                         check=True, timeout=60).stdout.decode("utf-8")
    return [unicodedata.normalize("NFC", line) for line in out.splitlines()]


@pytest.fixture(scope="module")
def names_pdf() -> bytes:
    require_tool("pdflatex")
    body = "\n".join(f"L{i}:{escape(name)}\\par" for i, (name, _) in enumerate(PRINTED))
    return compile_pdf("\\documentclass{article}\\pagestyle{empty}\\begin{document}\n"
                       f"\\raggedright\n{body}\n\\end{{document}}\n")


def test_escaped_names_print_what_they_say(names_pdf: bytes, tmp_path: Path) -> None:
    lines = {ln.split(":", 1)[0]: ln.split(":", 1)[1] for ln in _pdftotext(names_pdf, tmp_path)
             if ln[:1] == "L" and ":" in ln}
    for i, (name, printed) in enumerate(PRINTED):
        assert lines.get(f"L{i}") == printed, (name, escape(name), lines.get(f"L{i}"))


def test_escape_returns_tex_and_shortens_before_escaping() -> None:
    out = escape("a_b_c_d_e", limit=4)
    assert isinstance(out, latex.Tex)
    assert out == "a\\_b\\ldots{}"  # 3 characters of the name and "…", then escaped


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("  ab\x01cd \n e\t", None, "ab cd e"),
    ("abcdefghij", 5, "abcd…"),
    ("abcdefghij", 10, "abcdefghij"),
    ("abcdefghij", 1, "a…"),  # never empty: one character survives
    ("abc   defgh", 5, "abc…"),  # no space before the ellipsis
    ("x\u2028y\x85z", None, "x y z"),
    (12, None, "12"),
])
def test_clean_by_hand(text, limit, expected) -> None:
    assert clean(text, limit) == expected


@pytest.mark.parametrize(("text", "width"), [
    ("ab", 2.0),
    ("X x ~", 5.0),  # not wide, not narrow
    ("MWmw@%&", 7 * 1.4),
    ("il.,;:'|!()[]", 13 * 0.6),
    ("×→←⊕⊗", 5 * 1.4),
    ("·α", 2.0),
    ("é", 1.0),
    ("中", 8.0),  # printed as <U+4E2D>
    ("\U0001f600", 9.0),  # <U+1F600>
])
def test_printed_width_by_hand(text: str, width: float) -> None:
    assert printed_width(text) == pytest.approx(width)


def test_pdflatex_error_names_the_line(tmp_path: Path) -> None:
    require_tool("pdflatex")
    source = ("\\documentclass{article}\n\\begin{document}\nfine\n"
              "\\undefinedmacro\n\\end{document}\n")
    with pytest.raises(NetdrawError) as err:
        compile_pdf(source)
    message = str(err.value)
    # pdflatex's own file:line form of the error, and the source line it stopped at
    assert message.startswith("pdflatex failed: ./figure.tex:4: Undefined control sequence. "
                              "l.4 \\undefinedmacro; "), message
    assert message.endswith("please report this as a netdraw bug)")


def test_pdflatex_reads_and_writes_no_file_outside_its_folder(tmp_path: Path) -> None:
    """A hostile .tex (say a layer name that escaped escaping) can neither read a file by
    its absolute path nor write one: pdflatex runs in paranoid mode."""
    require_tool("pdflatex")
    secret = tmp_path / "secret.tex"
    secret.write_text("SECRETWORD")
    with pytest.raises(NetdrawError, match="LaTeX Error: File `"):  # not found, it says
        compile_pdf(f"\\documentclass{{article}}\\begin{{document}}\\input{{{secret}}}"
                    "\\end{document}")
    target = tmp_path / "written.txt"
    with pytest.raises(NetdrawError, match="I can't write on file"):
        compile_pdf("\\documentclass{article}\\begin{document}\\newwrite\\f"
                    f"\\immediate\\openout\\f={target}\\immediate\\write\\f{{x}}"
                    "\\immediate\\closeout\\f x\\end{document}")
    assert not target.exists()


@pytest.mark.parametrize(("log", "expected"), [
    ("This is pdfTeX\n! Missing $ inserted.\n<inserted text>\nl.7 a_b\n\nmore", "Missing $ "
     "inserted. l.7 a_b"),
    ("x\n./figure.tex:12: Undefined control sequence.\nl.12 \\foo\n", "./figure.tex:12: "
     "Undefined control sequence. l.12 \\foo"),
    ("first\n\nlast line", "last line"),
    ("", "no log"),
    ("! Emergency stop.\n<*> figure.tex\n", "Emergency stop."),  # no l. line follows
    ("l.3 \\a\n! Undefined control sequence.\nx\nl.7 \\b\n", "Undefined control sequence. "
     "l.7 \\b"),  # the l. line after the error, not the one before
    ("! Too far.\na\nb\nl.9 x\n", "Too far."),  # only the next two lines tell the place
    ("! X dimension too large.\nl.2 x\n", "X dimension too large. l.2 x"),
    ("! " + "e" * 300 + "\nl.1 x\n", "e" * 199 + "…"),  # at most 200 characters
    ("log\n" + "t" * 300, "t" * 199 + "…"),
])
def test_first_tex_error_by_hand(log: str, expected: str) -> None:
    assert first_tex_error(log) == expected


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_rasterise_makes_the_page_at_the_asked_resolution() -> None:
    require_tool("pdftoppm")
    # a 2 in x 1 in page: pdftoppm makes 2*dpi x 1*dpi pixels
    pdf = compile_pdf("\\documentclass{article}\\usepackage[paperwidth=2in,paperheight=1in,"
                      "margin=0pt]{geometry}\\pagestyle{empty}\\begin{document}x"
                      "\\newpage y\\end{document}")
    assert _png_size(rasterise(pdf, dpi=72)) == (144, 72)
    assert _png_size(rasterise(pdf)) == (300, 150)  # 150 dpi unless asked
    ppm = rasterise(pdf, fmt="ppm", dpi=36)
    assert ppm.split(b"\n", 2)[:2] == [b"P6", b"72 36"]


def test_rasterise_refuses_what_is_not_a_pdf() -> None:
    require_tool("pdftoppm")
    with pytest.raises(NetdrawError, match=r"^pdftoppm failed: \S"):
        rasterise(b"%PDF-1.5 this is not a PDF")


def test_missing_programs_are_explained(monkeypatch) -> None:
    monkeypatch.setattr(latex.shutil, "which", lambda name: None)
    with pytest.raises(NetdrawError) as err:
        compile_pdf("\\documentclass{article}\\begin{document}x\\end{document}")
    message = str(err.value)
    assert message.startswith("writing PDF from TikZ needs 'pdflatex', which is not installed")
    assert f"sudo apt-get install {latex.TEXLIVE_PACKAGES}'" in message
    assert message.endswith("or write .tex and compile it yourself")
    with pytest.raises(NetdrawError) as err:
        rasterise(b"%PDF-")
    assert str(err.value) == ("writing PNG from TikZ needs 'pdftoppm', which is not installed: "
                              "run 'sudo apt-get install poppler-utils', or write .pdf instead")


def _fake_pdftoppm(tmp_path: Path, monkeypatch, script: str) -> None:
    """A ``pdftoppm`` on PATH that behaves as ``script`` says (broken, silent or stuck)."""
    fake = tmp_path / "bin" / "pdftoppm"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n" + script + "\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")


@pytest.mark.parametrize(("script", "message"), [
    # pdftoppm's complaint on one line, garbled bytes shown as such, at most 200 characters
    ("printf 'Syntax Error:\\n bad \\377 page %0300d\\n' 0 >&2; exit 1",
     "pdftoppm failed: Syntax Error: bad \ufffd page " + "0" * 174 + "…"),
    ("exit 0", "pdftoppm failed: no output"),  # claims success, writes no page
    ("exit 1", "pdftoppm failed: no output"),
])
def test_a_failing_pdftoppm_is_reported(tmp_path: Path, monkeypatch, script: str,
                                        message: str) -> None:
    _fake_pdftoppm(tmp_path, monkeypatch, script)
    with pytest.raises(NetdrawError) as err:
        rasterise(b"%PDF-1.5")
    assert str(err.value) == message


def test_a_stuck_pdftoppm_is_stopped_and_named(tmp_path: Path, monkeypatch) -> None:
    _fake_pdftoppm(tmp_path, monkeypatch, "exec sleep 30")
    with pytest.raises(NetdrawError) as err:
        rasterise(b"%PDF-1.5", timeout=0.5)
    assert str(err.value).startswith("pdftoppm did not finish within 0.5 s")
