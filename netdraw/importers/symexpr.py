"""Symbolic dims of a saved ``torch.export`` program, as text, without sympy or ``eval``.

A ``.pt2`` archive writes a symbolic size as sympy's ``srepr``
(``Mul(Integer(2), Symbol('s77', positive=True, integer=True))``); torch reads it back with
``sympy.sympify``, which evaluates the text as Python. netdraw parses it with a small
recursive-descent parser that knows only calls, names, numbers and strings, and prints it
the way ``str()`` prints the SymInt of a live program (``2*s77``), so a dim reads the same
whether the program was loaded from a file or is in memory.

>>> dim_text("Add(FloorDiv(Add(Symbol('s0', integer=True), Integer(-3)), Integer(2)), "
...          "Integer(1))")
'(((s0 - 3)//2)) + 1'
>>> dim_text("__import__('os').system('x')") is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LENGTH = 4000  # characters of srepr text; longer expressions are not worth a label
MAX_DEPTH = 40

_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<num>-?\d+(?:\.\d+)?"
                    r"(?:[eE][-+]?\d+)?)|(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
                    r"|(?P<punct>[(),=]))")
_ATOM, _FUNC, _POW, _MUL, _ADD = 1000, 70, 60, 50, 40
#: torch's sympy functions that set their own print precedence (the rest print as calls).
_PRECEDENCE = {"FloorDiv": 35, "CleanDiv": 35, "ModularIndexing": 35, "Where": 35,
               "PythonMod": 35, "Mod": 35, "FloatTrueDiv": 35, "IntTrueDiv": 35,
               "PowByNatural": 50, "FloatPow": 60, "Identity": 10}


class _BadExpr(ValueError):
    pass


@dataclass(frozen=True)
class _Expr:
    head: str  # Symbol, Integer, Rational, Float, or a function name
    args: tuple  # of _Expr (functions), or the literal's values

    @property
    def is_number(self) -> bool:
        return self.head in ("Integer", "Rational", "Float")

    def negative(self) -> bool:
        if self.head in ("Integer", "Rational", "Float"):
            return self.args[0] < 0
        return self.head == "Mul" and bool(self.args) and self.args[0].negative()


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _BadExpr(text[pos:pos + 10])
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def take(self, kind: str | None = None, value: str | None = None) -> str:
        if self.pos >= len(self.tokens):
            raise _BadExpr("end")
        k, v = self.tokens[self.pos]
        if (kind and k != kind) or (value and v != value):
            raise _BadExpr(v)
        self.pos += 1
        return v

    def peek(self) -> str:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else ""

    def literal(self, depth: int) -> object:
        kind, value = self.tokens[self.pos] if self.pos < len(self.tokens) else ("", "")
        if kind == "num":
            self.pos += 1
            return float(value) if any(c in value for c in ".eE") else int(value)
        if kind == "str":
            self.pos += 1
            return value[1:-1]
        if kind == "name" and value in ("True", "False", "None"):
            self.pos += 1
            return value
        return self.expr(depth)

    def expr(self, depth: int = 0) -> _Expr:
        if depth > MAX_DEPTH:
            raise _BadExpr("too deep")
        head = self.take("name")
        self.take("punct", "(")
        args: list[object] = []
        while self.peek() != ")":
            if self.pos + 1 < len(self.tokens) and self.tokens[self.pos + 1][1] == "=":
                self.take("name")
                self.take("punct", "=")
                self.literal(depth + 1)  # assumptions such as integer=True: not printed
            else:
                args.append(self.literal(depth + 1))
            if self.peek() != ")":
                self.take("punct", ",")
        self.take("punct", ")")
        if head == "Symbol":
            if len(args) != 1 or not isinstance(args[0], str):
                raise _BadExpr("Symbol")
        elif head == "Integer":
            if len(args) != 1 or not isinstance(args[0], int):
                raise _BadExpr("Integer")
        elif head == "Rational":
            if len(args) != 2 or not all(isinstance(a, int) for a in args) or args[1] == 0:
                raise _BadExpr("Rational")
        elif head == "Float":
            args = [float(args[0])] if args and isinstance(args[0], (int, float, str)) \
                and _is_float(args[0]) else []
            if not args:
                raise _BadExpr("Float")
        elif not all(isinstance(a, _Expr) for a in args):
            raise _BadExpr(head)
        return _Expr(head, tuple(args))


def _is_float(value: object) -> bool:
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def _precedence(e: _Expr) -> int:
    if e.head in ("Integer", "Float"):
        return _ADD if e.args[0] < 0 else _ATOM
    if e.head == "Rational":
        return _ADD if e.args[0] < 0 else _MUL
    if e.head == "Symbol":
        return _ATOM
    if e.head == "Add":
        return _ADD
    if e.head == "Mul":
        if any(_PRECEDENCE.get(a.head, _FUNC) < _MUL for a in e.args
               if not a.is_number and a.head not in ("Symbol", "Add", "Mul", "Pow")):
            return _MUL
        return _ADD if e.negative() else _MUL
    if e.head == "Pow":
        return _POW
    return _PRECEDENCE.get(e.head, _FUNC)


def _wrap(e: _Expr, level: float) -> str:
    text = _print(e)
    return f"({text})" if _precedence(e) <= level else text


def _print(e: _Expr) -> str:
    if e.head == "Symbol":
        return str(e.args[0])
    if e.head == "Integer":
        return str(e.args[0])
    if e.head == "Rational":
        return f"{e.args[0]}/{e.args[1]}"
    if e.head == "Float":
        return repr(e.args[0])
    if e.head == "Add":
        parts: list[str] = []
        for term in e.args:
            text = _print(term)
            sign = "+"
            if text.startswith("-") and term.head != "Add":
                sign, text = "-", text[1:]
            if _precedence(term) < _ADD or term.head == "Add":
                text = f"({text})"
            parts += [sign, text]
        sign = parts.pop(0) if parts else ""
        return ("" if sign == "+" else sign) + " ".join(parts)
    if e.head == "Mul":
        return _print_mul(e)
    if e.head == "Pow" and len(e.args) == 2:
        base, exp = e.args
        if exp.head == "Integer" and exp.args[0] < 0:
            inverse = _Expr("Pow", (base, _Expr("Integer", (-exp.args[0],)))) \
                if exp.args[0] != -1 else base
            return f"1/{_wrap(inverse, _POW)}"
        return f"{_wrap(base, _POW)}**{_wrap(exp, _POW)}"
    if e.head in ("FloorDiv", "CleanDiv") and len(e.args) == 2:
        return f"({_wrap(e.args[0], _ATOM - 0.5)}//{_wrap(e.args[1], _ATOM - 0.5)})"
    if e.head == "Identity" and len(e.args) == 1:
        return f"({_print(e.args[0])})"
    return f"{e.head}({', '.join(_print(a) for a in e.args)})"


def _print_mul(e: _Expr) -> str:
    factors = list(e.args)
    sign = ""
    if factors and factors[0].is_number and factors[0].negative():
        sign = "-"
        head = factors[0]
        value = (-head.args[0],) if head.head != "Rational" else (-head.args[0], head.args[1])
        factors[0] = _Expr(head.head, value)
        if factors[0].head == "Integer" and factors[0].args[0] == 1 and len(factors) > 1:
            factors.pop(0)
    numerator, denominator = [], []
    for f in factors:
        if f.head == "Pow" and len(f.args) == 2 and f.args[1].head == "Integer" \
                and f.args[1].args[0] < 0:
            exp = -f.args[1].args[0]
            denominator.append(f.args[0] if exp == 1 else
                               _Expr("Pow", (f.args[0], _Expr("Integer", (exp,)))))
        else:
            numerator.append(f)
    top = "*".join(_wrap(f, _MUL) for f in numerator) or "1"
    if not denominator:
        return sign + top
    bottom = "*".join(_wrap(f, _MUL) for f in denominator)
    return sign + (f"{top}/({bottom})" if len(denominator) > 1 else f"{top}/{bottom}")


def dim_text(srepr: str) -> str | None:
    """The printed form of a symbolic dim written as sympy ``srepr`` text; None when the
    text is not such an expression (too long, malformed or not an expression at all)."""
    if not isinstance(srepr, str) or len(srepr) > MAX_LENGTH:
        return None
    try:
        parser = _Parser(srepr)
        expr = parser.expr()
        if parser.pos != len(parser.tokens):
            return None
        return _print(expr)
    except (_BadExpr, RecursionError, ValueError, OverflowError):
        return None
