"""MAC counts that may depend on symbolic dimensions: ints, or formulas in those dimensions.

``attrs["macs"]`` is an int when every dimension a count depends on is known, else a string
in Python's syntax (``"64*seq + 8*seq**2"``): :class:`Macs` reads, adds, multiplies and
writes both, :func:`add_macs` sums two attribute values, :func:`format_macs` shows one.

>>> add_macs("2*seq", 10), format_macs("16*seq**2 + 2048*seq"), format_macs(3_857_973_248)
('2*seq + 10', '16·seq² + 2.0k·seq', '3.9G')
"""

from __future__ import annotations

from typing import Any

from netdraw.describe import format_count


class Macs:
    """A MAC count that may depend on symbolic dimensions: a polynomial with int coefficients.

    ``terms`` maps a sorted tuple of dimension names (a monomial; ``()`` for the constant)
    to its coefficient. Only ``+`` and ``*`` are needed to count MACs.
    """

    __slots__ = ("terms",)

    def __init__(self, terms: dict[tuple[str, ...], int]) -> None:
        self.terms = {k: v for k, v in terms.items() if v}

    @classmethod
    def symbol(cls, name: str) -> Macs:
        return cls({(name,): 1})

    @classmethod
    def of(cls, value: int | Macs) -> Macs:
        return value if isinstance(value, Macs) else cls({(): int(value)})

    def __add__(self, other: int | Macs) -> Macs:
        terms = dict(self.terms)
        for key, coef in Macs.of(other).terms.items():
            terms[key] = terms.get(key, 0) + coef
        return Macs(terms)

    __radd__ = __add__

    def __mul__(self, other: int | Macs) -> Macs:
        terms: dict[tuple[str, ...], int] = {}
        for ka, ca in self.terms.items():
            for kb, cb in Macs.of(other).terms.items():
                key = tuple(sorted(ka + kb))
                terms[key] = terms.get(key, 0) + ca * cb
        return Macs(terms)

    __rmul__ = __mul__

    def value(self) -> int | str:
        """An int when no dimension is symbolic, else the formula (see :meth:`parse`)."""
        if set(self.terms) <= {()}:
            return self.terms.get((), 0)
        return " + ".join(_term(k, str(c), "*", "**") for k, c in self._ordered())

    def display(self) -> str:
        """``2.4M·seq + 64·seq²`` for a label or a table cell."""
        if set(self.terms) <= {()}:
            return format_count(self.terms.get((), 0))
        return " + ".join(_term(k, format_count(c), "·", "") for k, c in self._ordered())

    def _ordered(self) -> list[tuple[tuple[str, ...], int]]:
        return sorted(self.terms.items(), key=lambda kc: (-len(kc[0]), kc[0]))

    @classmethod
    def parse(cls, value: Any) -> Macs | None:
        """``attrs["macs"]`` (an int or a formula :meth:`value` wrote) -> Macs, else None.

        A graph file is untrusted: formulas longer than any count can need are refused.
        """
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return cls.of(value)
        if not isinstance(value, str) or not value.strip() or len(value) > _MAX_FORMULA:
            return None
        total = cls({})
        for text in _split(value, "+"):
            factors = _split(text, "*")  # "64*seq**2" -> 64, seq, "", 2
            if len(factors) > _MAX_FACTORS:
                return None
            term = cls.of(int(factors.pop(0))) if _is_number(factors[0]) else cls.of(1)
            while factors:
                name = factors.pop(0)
                if name.startswith("(") and name.endswith(")"):
                    name = name[1:-1]
                if not name:
                    return None
                if name.isdigit():  # a number after a name ("seq*64") is a factor too
                    if not _is_number(name):
                        return None
                    term = term * int(name)
                    continue
                power = 1
                if factors[:1] == [""]:
                    if len(factors) < 2 or not _is_number(factors[1]):
                        return None
                    power = int(factors[1])
                    del factors[:2]
                    if power > _MAX_FACTORS:
                        return None
                for _ in range(power):
                    term = term * cls.symbol(name)
            total = total + term
        return total


#: Bounds on a formula read from a file: far beyond any real count (a transformer's is a
#: quadratic in one or two lengths), small enough that no file can make parsing slow.
_MAX_FORMULA, _MAX_FACTORS, _MAX_DIGITS = 4096, 16, 40


def _is_number(text: str) -> bool:
    return text.isdigit() and text.isascii() and len(text) <= _MAX_DIGITS


def _split(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside parentheses, parts stripped."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and ch == sep:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _term(key: tuple[str, ...], coef: str, times: str, power: str) -> str:
    """One monomial: ``64*seq**2`` (formula, ``power="**"``) or ``64·seq²`` (display)."""
    parts = [coef] if coef != "1" or not key else []
    for name in dict.fromkeys(key):
        shown = name if name.isidentifier() else f"({name})"
        n = key.count(name)
        if n == 1:
            parts.append(shown)
        else:
            parts.append(f"{shown}{power}{n}" if power else
                         shown + str(n).translate(_SUPERSCRIPT))
    return times.join(parts)


def add_macs(a: Any, b: Any) -> int | str | None:
    """The sum of two ``attrs["macs"]`` values (ints or formulas); None counts as absent.

    >>> add_macs(10, "2*seq"), add_macs(None, 5), add_macs(None, None)
    ('2*seq + 10', 5, None)
    """
    if type(a) is int and type(b) is int:  # the common case, kept fast for big graphs
        return a + b
    if b is None and type(a) is int:
        return a
    if a is None and type(b) is int:
        return b
    terms = [m for m in (Macs.parse(a), Macs.parse(b)) if m is not None]
    if not terms:
        return None
    return sum(terms[1:], terms[0]).value()


def format_macs(value: Any) -> str:
    """``attrs["macs"]`` for people: ``3.9G``, ``2.4M·seq + 64·seq²``; ``–`` when absent."""
    macs = Macs.parse(value)
    return "–" if macs is None else macs.display()
