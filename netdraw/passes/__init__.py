"""Graph -> Graph passes that make a readable view. Passes never mutate their input.

:func:`make_view` runs them all (prune, infer groups, fold, roll, collapse) as
:class:`ViewOptions` ask; :func:`describe_view` says in one line which view a graph is.
"""

from netdraw.passes.collapse import collapse_to_depth
from netdraw.passes.fold import DEFAULT_PATTERNS, fold, parse_pattern
from netdraw.passes.groups import dissolve_singletons, infer_groups
from netdraw.passes.prune import prune
from netdraw.passes.stats import annotate, node_macs, total_macs
from netdraw.passes.view import ViewOptions, describe_view, make_view

__all__ = ["DEFAULT_PATTERNS", "ViewOptions", "annotate", "collapse_to_depth",
           "describe_view", "dissolve_singletons", "fold", "infer_groups", "make_view",
           "node_macs", "parse_pattern", "prune", "total_macs"]
