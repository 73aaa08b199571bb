"""MAC arithmetic (netdraw.passes.macs) against SymPy, an outside algebra system: every sum
and product of symbolic counts must expand to what SymPy expands; displays by hand."""

from __future__ import annotations

import pytest
from conftest import require_module

from netdraw.passes.macs import Macs, add_macs, format_macs

sympy = require_module("sympy")

FORMULAS = ["10", "0", "2*seq", "seq*seq + 3", "64*seq**2 + 2048*seq + 7", "b*seq*d",
            "(batch size)*16", "3*h*w + h**2", "seq**3", "1*n", "n + n + 2*n"]


def _sym(value: int | str) -> sympy.Expr:
    """SymPy's reading of a count; names with spaces (written in parentheses) as symbols."""
    text = str(value).replace("(batch size)", "batch_size")
    return sympy.expand(sympy.sympify(text))


@pytest.mark.parametrize("a", FORMULAS)
@pytest.mark.parametrize("b", ["5", "seq", "2*seq + 1", "h*w", "(batch size)*2", "n**2"])
def test_sums_and_products_match_sympy(a: str, b: str) -> None:
    total = add_macs(a if not a.isdigit() else int(a), b if not b.isdigit() else int(b))
    assert _sym(total) == _sym(a) + _sym(b), (a, b, total)
    product = (Macs.parse(a) * Macs.parse(b)).value()
    assert sympy.expand(_sym(product) - _sym(a) * _sym(b)) == 0, (a, b, product)
    # the written formula reads back to the same count
    assert _sym(Macs.parse(product).value()) == _sym(product)


def test_int_results_stay_ints() -> None:
    assert add_macs(3, 4) == 7 and type(add_macs(3, 4)) is int
    assert add_macs(None, 5) == 5 and add_macs(5, None) == 5
    assert add_macs(None, None) is None
    assert add_macs("4", 6) == 10 and type(add_macs("4", 6)) is int
    assert add_macs("seq", "junk*") == "seq"  # an unreadable value counts as absent
    assert add_macs("junk*", None) is None and add_macs(None, "junk*") is None
    assert add_macs("seq*2", None) == "2*seq" == add_macs(None, "seq*2")  # written anew
    assert add_macs(True, 3) == 3  # a bool is no count
    assert (Macs.of(6) * 7).value() == 42
    assert (2 * Macs.symbol("n") + 1).value() == "2*n + 1"  # the reflected operators
    assert Macs({(): 0, ("n",): 0}).value() == 0  # zero terms vanish


@pytest.mark.parametrize(("value", "formula"), [
    ("seq*seq*64 + 2048*seq", "64*seq**2 + 2048*seq"),  # highest degree first
    ("b*a + a*a + a", "a**2 + a*b + a"),
    ("3 + n", "n + 3"),  # the constant last
    ("(batch size)*4", "4*(batch size)"),
    ("1*x", "x"),
    ("seq*2*seq*3", "6*seq**2"),  # numbers anywhere in a product multiply
    ("2*(a*b)", "2*(a*b)"),  # a name in parentheses is one name, whatever it holds
    ("(a+b)*3 + (a+b)", "4*(a+b)"),
])
def test_formulas_are_written_in_one_order(value: str, formula: str) -> None:
    assert Macs.parse(value).value() == formula


@pytest.mark.parametrize(("value", "shown"), [
    (3_857_973_248, "3.9G"),
    (999, "999"),
    (12_345, "12.3k"),
    ("16*seq**2 + 2048*seq", "16·seq² + 2.0k·seq"),
    ("seq**10", "seq¹⁰"),
    ("2500000*h*w", "2.5M·h·w"),
    ("n", "n"),
    ("(batch size)*3", "3·(batch size)"),
    (None, "–"),
    (0, "0"),  # no MACs is a count too (a reshape's), not an absent one
    ("0*seq", "0"),
])
def test_format_macs_by_hand(value, shown: str) -> None:
    assert format_macs(value) == shown


@pytest.mark.parametrize("value", [
    "", "   ", "seq**", "seq**x", "2**", "seq*", "*", "a" * 5000,
    "*".join(["n"] * 17), "n**17", "1" * 41, "n*" + "1" * 41, "١٢*n", True, 1.5, [1],
    "seq**2**3",
])
def test_untrusted_formulas_are_refused(value) -> None:
    """A graph file is untrusted: what no count needs reads as no count (format shows –)."""
    assert Macs.parse(value) is None, value
    assert format_macs(value) == "–"


def test_bounds_are_inclusive() -> None:
    assert Macs.parse("*".join(["n"] * 16)).value() == "n**16"
    assert Macs.parse("n**16").value() == "n**16"
    assert Macs.parse("9" * 40).value() == int("9" * 40)
    assert Macs.parse("n + " + "1" * 40) is not None
    long_ok = " + ".join(["n"] * 800)  # 3,197 characters, under the 4,096 bound
    assert Macs.parse(long_ok).value() == "800*n"
    at_bound = " + ".join(["n"] * 1024) + "   "  # 4,096 characters: still read
    assert len(at_bound) == 4096 and Macs.parse(at_bound).value() == "1024*n"
    assert Macs.parse(at_bound + " ") is None
