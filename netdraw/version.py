"""netdraw's version: the one source (``pyproject.toml`` reads it, ``netdraw --version``
prints it, outputs that record their maker carry it)."""

__version__ = "0.1.0"
