"""Graph -> Graph passes that make a readable view. Passes never mutate their input."""

from netdraw.passes.collapse import collapse_to_depth

__all__ = ["collapse_to_depth"]
