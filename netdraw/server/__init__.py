"""``netdraw serve``: the interactive HTML preview over HTTP, with live reload.

>>> from netdraw.server import ModelSource, Preview, make_server   # doctest: +SKIP
"""

from netdraw.server.app import Preview, Snapshot, make_server, run_server, url_of
from netdraw.server.source import ModelSource, error_text

__all__ = ["ModelSource", "Preview", "Snapshot", "error_text", "make_server", "run_server",
           "url_of"]
