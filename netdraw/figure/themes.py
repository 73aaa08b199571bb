"""Colour themes of the 3D-box figures (the palette is documented in docs/tikz.md).

Every theme maps the same roles to HTML colours: one per drawing category, ``band`` and
``dense_band`` for the activation band of a conv / fully connected layer, ``line`` for
outlines and ``arrow`` for arrows. Shape also encodes meaning (box, thin bar, ball with a
symbol: ⊕ add, ⊖ subtract, ⊗ multiply, ⊘ divide, max, min, avg), so no figure relies on
colour alone.

* ``default``: warm print colours in the spirit of the classic 3D-box figures.
* ``colorblind``: built from the Okabe–Ito palette (safe for the common colour-vision
  deficiencies), with lighter tints where two roles would otherwise meet.
* ``greyscale``: grey levels only, distinct in lightness, for print in black and white.
"""

from __future__ import annotations

from netdraw.errors import NetdrawError

ROLES = ("input", "conv", "band", "deconv", "pool", "upsample", "dense", "dense_band",
         "matmul", "norm", "act", "attention", "embedding", "recurrent", "block", "other",
         "add", "multiply", "concat", "softmax", "line", "arrow", "subtract", "divide",
         "maximum", "minimum", "average")

THEMES: dict[str, dict[str, str]] = {
    "default": {
        "input": "D9D9D9", "conv": "F3D48B", "band": "E08E45", "deconv": "7FB8C4",
        "pool": "C65D52", "upsample": "9CCBD3", "dense": "9DB5E0", "dense_band": "5A7FC0",
        "matmul": "B9C8E6", "norm": "D8CFE8", "act": "E08E45", "attention": "E6A6C4",
        "embedding": "C9E2B4", "recurrent": "F2B5A0", "block": "A8CDE0", "other": "E3E3E3",
        "add": "9FD39C", "multiply": "CBE6AE", "concat": "C8B3DF", "softmax": "EFA0BC",
        "line": "4D4D4D", "arrow": "333333", "subtract": "F2C38E", "divide": "E8D79B",
        "maximum": "B7DDE8", "minimum": "B7DDE8", "average": "D6E8B7",
    },
    "colorblind": {
        "input": "BBBBBB", "conv": "F0E442", "band": "E69F00", "deconv": "009E73",
        "pool": "D55E00", "upsample": "80CEB9", "dense": "56B4E9", "dense_band": "0072B2",
        "matmul": "AAD9F4", "norm": "DDDDDD", "act": "E69F00", "attention": "CC79A7",
        "embedding": "F7F2A0", "recurrent": "E6BCD3", "block": "9FCCE8", "other": "EEEEEE",
        "add": "009E73", "multiply": "80CEB9", "concat": "CC79A7", "softmax": "D55E00",
        "line": "333333", "arrow": "000000", "subtract": "E69F00", "divide": "F0E442",
        "maximum": "56B4E9", "minimum": "56B4E9", "average": "AAD9F4",
    },
    "greyscale": {
        "input": "F2F2F2", "conv": "D9D9D9", "band": "8C8C8C", "deconv": "ABABAB",
        "pool": "6F6F6F", "upsample": "BDBDBD", "dense": "CCCCCC", "dense_band": "7A7A7A",
        "matmul": "B3B3B3", "norm": "EDEDED", "act": "8C8C8C", "attention": "B8B8B8",
        "embedding": "E0E0E0", "recurrent": "C4C4C4", "block": "C9C9C9", "other": "F0F0F0",
        "add": "FFFFFF", "multiply": "FFFFFF", "concat": "E0E0E0", "softmax": "9E9E9E",
        "line": "333333", "arrow": "222222", "subtract": "FFFFFF", "divide": "FFFFFF",
        "maximum": "FFFFFF", "minimum": "FFFFFF", "average": "FFFFFF",
    },
}
ALIASES = {"colourblind": "colorblind", "cb": "colorblind", "grayscale": "greyscale",
           "grey": "greyscale", "gray": "greyscale"}


def theme(name: str | None) -> dict[str, str]:
    """The palette of a theme name (``None`` is ``default``)."""
    key = ALIASES.get((name or "default").lower(), (name or "default").lower())
    if key not in THEMES:
        raise NetdrawError(f"unknown theme {name!r}; choose one of {', '.join(THEMES)}")
    return THEMES[key]


def band_role(category: str) -> str:
    """The colour role of the activation band drawn on a box of ``category``."""
    return "dense_band" if category in ("dense", "matmul") else "band"
