"""Sphinx configuration of netdraw's documentation (``sphinx-build -W -b html docs OUT``)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

import netdraw  # noqa: E402

project = "netdraw"
author = "the netdraw authors"
copyright = "netdraw authors"
version = release = netdraw.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.graphviz",
    "myst_parser",
    "netdraw.sphinx",
    "netdraw_docs",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3
numfig = True
autodoc_member_order = "bysource"
autodoc_typehints = "description"
html_theme = "alabaster"
# Wide enough for 90-column command lines and the reference tables.
html_theme_options = {"page_width": "1240px", "sidebar_width": "250px", "body_max_width": "none"}
html_title = f"netdraw {release}"
html_static_path = ["_static"]
html_css_files = ["netdraw.css"]
latex_elements = {"fontpkg": ""}
graphviz_output_format = "svg"  # docs/imports.dot on the architecture page, crisp
smartquotes = False  # option names keep their two dashes
