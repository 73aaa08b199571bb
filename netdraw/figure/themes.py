"""Colour themes: one palette and one set of theme names for every style.

A theme maps every IR kind (``conv``, ``pool``, ``dense``, … — the keys of
:data:`netdraw.describe.PALETTE`) and a few drawing roles to a colour, as ``RRGGBB``:

- ``band`` and ``dense_band``: the activation band on a convolution / fully connected box;
- ``kernel`` and ``pyramid``: the kernel square and its projection (NN-SVG ``alexnet``);
- ``line`` (outlines) and ``arrow`` (arrows).

The Graphviz diagram fills its boxes, the NN-SVG looks their glyphs and the TikZ figures
their boxes from the same theme, so a convolution has one colour in every style. Shape also
encodes meaning (box, thin bar, ball with a symbol), so no figure relies on colour alone.

* ``default``: netdraw's muted print palette (:data:`netdraw.describe.PALETTE`).
* ``colorblind``: built from the Okabe–Ito palette (safe for the common colour-vision
  deficiencies), with lighter tints where two kinds would otherwise meet.
* ``greyscale`` (also ``mono``): grey levels only, the kinds a figure shows side by side
  apart in lightness, for print in black and white.

The kind tables are data: a kind added to :data:`netdraw.describe.PALETTE` is in every
theme at once (``colorblind`` takes its default colour, ``greyscale`` its lightness), and
a theme's own table may name it to choose better.
"""

from __future__ import annotations

import re

from netdraw.describe import PALETTE
from netdraw.errors import NetdrawError
from netdraw.figure.colour_names import COLOUR_NAMES

#: Drawing roles every theme colours besides the kinds.
EXTRA_ROLES = ("band", "dense_band", "kernel", "pyramid", "line", "arrow")
#: TikZ colour roles (``nd<role>`` in the preamble) -> the theme key they take.
TIKZ_ROLES: dict[str, str] = {
    "input": "input", "conv": "conv", "band": "band", "deconv": "conv_transpose",
    "pool": "pool", "upsample": "upsample", "dense": "dense", "dense_band": "dense_band",
    "matmul": "matmul", "norm": "norm", "act": "activation", "attention": "attention",
    "embedding": "embedding", "recurrent": "recurrent", "block": "block", "other": "other",
    "add": "add", "multiply": "multiply", "concat": "concat", "softmax": "softmax",
    "line": "line", "arrow": "arrow", "subtract": "subtract", "divide": "divide",
    "maximum": "maximum", "minimum": "minimum", "average": "average",
}
ROLES = tuple(TIKZ_ROLES)

_DEFAULT_EXTRA = {"band": "4292C6", "dense_band": "E6550D", "kernel": "5AA9E6",
                  "pyramid": "F4A6A6", "line": "4D4D4D", "arrow": "333333"}

#: Okabe–Ito: orange E69F00, sky blue 56B4E9, bluish green 009E73, yellow F0E442,
#: blue 0072B2, vermillion D55E00, reddish purple CC79A7 (and black).
_COLORBLIND = {
    "input": "BBBBBB", "output": "BBBBBB", "conv": "56B4E9", "conv_transpose": "009E73",
    "pool": "E69F00", "global_pool": "E69F00", "upsample": "80CEB9", "dense": "F0E442",
    "matmul": "F7F2A0", "attention": "CC79A7", "embedding": "E6BCD3", "recurrent": "D55E00",
    "norm": "DDDDDD", "activation": "F7E6B3", "softmax": "D55E00", "add": "009E73",
    "multiply": "80CEB9", "concat": "CC79A7", "block": "9FCCE8", "subgraph": "AAD9F4",
    "subtract": "E69F00", "divide": "F0E442", "maximum": "56B4E9", "minimum": "56B4E9",
    "average": "AAD9F4",
    "reduce": "CDEBE2", "other": "EEEEEE",
    "band": "0072B2", "dense_band": "E69F00", "kernel": "0072B2", "pyramid": "F5C96B",
    "line": "333333", "arrow": "000000",
}

#: Grey levels: the kinds a figure shows side by side (input, blocks, convolutions,
#: up-sampling, transposed convolutions, attention, pooling) at least 6 % apart in
#: lightness; merges are balls with a symbol, dense layers thin bars.
_GREYSCALE = {
    "input": "F7F7F7", "output": "F7F7F7", "block": "E3E3E3", "embedding": "EBEBEB",
    "conv": "CFCFCF", "matmul": "C2C2C2", "upsample": "B6B6B6", "dense": "BDBDBD",
    "conv_transpose": "A6A6A6", "attention": "969696", "recurrent": "A8A8A8",
    "pool": "808080", "global_pool": "737373", "norm": "EDEDED", "activation": "DADADA",
    "softmax": "B0B0B0", "add": "FFFFFF", "multiply": "FFFFFF", "concat": "E6E6E6",
    "subtract": "FFFFFF", "divide": "FFFFFF", "maximum": "FFFFFF", "minimum": "FFFFFF",
    "average": "FFFFFF",
    "subgraph": "D6D6D6", "reduce": "CCCCCC", "other": "F0F0F0",
    "band": "5E5E5E", "dense_band": "4D4D4D", "kernel": "6E6E6E", "pyramid": "D0D0D0",
    "line": "333333", "arrow": "222222",
}


def _hex(colour: str) -> str:
    return colour.lstrip("#").upper()


def _grey(colour: str) -> str:
    """The grey of the same lightness (Rec. 709 luma) as ``RRGGBB``."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (0, 2, 4))
    level = round(0.2126 * r + 0.7152 * g + 0.0722 * b)
    return f"{level:02X}" * 3


def _build() -> dict[str, dict[str, str]]:
    default = {kind: _hex(c) for kind, c in PALETTE.items()} | _DEFAULT_EXTRA
    colorblind = {k: _COLORBLIND.get(k, v) for k, v in default.items()}
    greyscale = {k: _GREYSCALE.get(k) or _grey(v) for k, v in default.items()}
    return {"default": default, "colorblind": colorblind, "greyscale": greyscale}


#: theme name -> key (an IR kind or a role) -> ``RRGGBB``.
THEMES: dict[str, dict[str, str]] = _build()
ALIASES = {"colourblind": "colorblind", "cb": "colorblind", "grayscale": "greyscale",
           "grey": "greyscale", "gray": "greyscale", "mono": "greyscale"}


def theme_name(name: str | None) -> str:
    """The canonical name of a theme (``None`` is ``default``; ``mono`` is ``greyscale``)."""
    key = (name or "default").strip().lower()
    key = ALIASES.get(key, key)
    if key not in THEMES:
        raise NetdrawError(f"unknown theme {name!r}; choose one of {', '.join(THEMES)} "
                           f"(or {', '.join(sorted(ALIASES))})")
    return key


def theme(name: str | None) -> dict[str, str]:
    """The colours of a theme by key (``RRGGBB``); ``None`` is ``default``."""
    return THEMES[theme_name(name)]


def tikz_palette(name: str | None) -> dict[str, str]:
    """The TikZ colour roles (:data:`ROLES`) of a theme, as ``RRGGBB``."""
    colours = theme(name)
    return {role: colours[key] for role, key in TIKZ_ROLES.items()}


def svg_palette(name: str | None) -> dict[str, str]:
    """A theme's colours as ``#rrggbb`` (SVG and Graphviz)."""
    return {k: "#" + v.lower() for k, v in theme(name).items()}


def band_role(category: str) -> str:
    """The colour role of the activation band drawn on a box of ``category``."""
    return "dense_band" if category in ("dense", "matmul") else "band"


# -- colours the author gives -------------------------------------------------------------

_HEX_COLOUR = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
#: Keys ``--colors`` and ``--color KIND=…`` take besides the kinds: every key at once.
ALL = "all"


def check_colour(value: str, key: str, flag: str = "--color") -> str:
    """A colour as given (``#rgb``, ``#rrggbb`` or one of the 147 SVG colour names, which
    are made lower case); anything else is an error naming ``key``."""
    value = str(value).strip()
    if _HEX_COLOUR.match(value):
        return value
    if value.lower() in COLOUR_NAMES:
        return value.lower()
    raise NetdrawError(f"colour {value!r} for {key!r} ({flag}) is not a colour: give #rgb, "
                       "#rrggbb or one of the 147 SVG colour names (orange, steelblue, "
                       "lightgrey, …)")


def hex_of(colour: str) -> str:
    """``RRGGBB`` of a colour :func:`check_colour` accepts (TikZ's ``\\definecolor``)."""
    if colour.startswith("#"):
        digits = colour[1:]
        if len(digits) == 3:
            digits = "".join(ch * 2 for ch in digits)
        return digits.upper()
    return COLOUR_NAMES[colour.lower()]


def is_kind(key: str) -> bool:
    """Whether ``--color KEY=…`` names a kind (or a role, or ``all``), not a PATH."""
    return key == ALL or key in THEMES["default"]


def parse_spec(spec: str | dict[str, str] | None) -> tuple[str | None, dict[str, str]]:
    """``--colors SPEC``: a theme name and/or ``KIND=COLOUR`` pairs (``"mono,conv=#f80"``,
    or a dict) -> (theme or None, {kind: colour})."""
    if not spec:
        return None, {}
    items = list(spec.items()) if isinstance(spec, dict) else [
        tuple(p.split("=", 1)) if "=" in p else (p, None) for p in str(spec).split(",")
        if p.strip()]
    name, colours = None, {}
    for key, value in items:
        key = str(key).strip()
        if value is None:
            name = theme_name(key)
            continue
        if not is_kind(key):
            raise NetdrawError(f"unknown kind {key!r} in --colors; use one of {ALL}, "
                               f"{', '.join(sorted(PALETTE))}")
        colours[key] = check_colour(value, key, "--colors")
    return name, colours


def palette(theme_: str | None = None, colors: str | dict[str, str] | None = None
            ) -> dict[str, str]:
    """Every kind's and role's colour (``#rrggbb``, or a colour as the author gave it):
    the theme's (``--theme``, or the one ``colors`` names), then ``colors``' own
    ``KIND=COLOUR`` pairs (``all`` paints every kind)."""
    named, pairs = parse_spec(colors)
    if theme_ is not None and named is not None and theme_name(theme_) != named:
        raise NetdrawError(f"--theme {theme_} and --colors {named} name two themes; give one")
    out = svg_palette(named or theme_)
    for key, value in pairs.items():
        if key == ALL:
            out.update({k: value for k in PALETTE})
        else:
            out[key] = value
    return out


def author_colours(theme_: str | None, colors: str | dict[str, str] | None,
                   color: list[str] | tuple[str, ...] | str | None
                   ) -> tuple[str | None, dict[str, str], list[tuple[str, str]]]:
    """``--theme``, ``--colors SPEC`` and every ``--color KEY=COLOUR`` as (theme, {kind:
    colour}, [(PATH, colour)]): a KEY that is a kind (``conv``), a role (``band``) or
    ``all`` recolours the palette; any other KEY is a PATH (a group or a layer)."""
    named, pairs = parse_spec(colors)
    if theme_ is not None and named is not None and theme_name(theme_) != named:
        raise NetdrawError(f"--theme {theme_} and --colors {named} name two themes; give one")
    theme_ = named or (theme_name(theme_) if theme_ is not None else None)
    fills: list[tuple[str, str]] = []
    for text in [color] if isinstance(color, str) else list(color or ()):
        key, sep, value = str(text).partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise NetdrawError(f"--color takes PATH=COLOUR or KIND=COLOUR, not {text!r} "
                               "(e.g. --color conv=#9ecae1 or --color dec1.gate=orange)")
        if is_kind(key):
            pairs[key] = check_colour(value, key)
        else:
            fills.append((key, check_colour(value, key)))
    return theme_, pairs, fills
