"""Build hook: put the browser library the HTML preview embeds into the wheel.

``package.json`` declares it and ``npm ci`` installs it into ``node_modules/``; building
copies its one file into ``netdraw/templates/html/vendor/`` of the build (never into the
source tree), so a wheel writes self-contained pages without npm. Without ``npm ci`` the
build still succeeds (every other format needs no browser library) and says so; the HTML
preview then names what to run. Everything else about the package is in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
LIBRARY = ROOT / "node_modules" / "@hpcc-js" / "wasm-graphviz"
VENDORED = {LIBRARY / "dist" / "index.js": "graphviz.js", LIBRARY / "LICENSE": "graphviz.LICENSE"}


class BuildWithBrowserLibraries(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install finds node_modules/ in the checkout at run time
        missing = [str(src) for src in VENDORED if not src.is_file()]
        if missing:
            print("netdraw: note: building without the HTML preview's browser library "
                  f"({', '.join(missing)} is missing; 'npm ci' installs it): every format "
                  "but .html works, and writing .html says how to add it", file=sys.stderr)
            return
        target = Path(self.build_lib) / "netdraw" / "templates" / "html" / "vendor"
        target.mkdir(parents=True, exist_ok=True)
        for src, name in VENDORED.items():
            shutil.copyfile(src, target / name)


setup(cmdclass={"build_py": BuildWithBrowserLibraries})
