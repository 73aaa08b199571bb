"""Build hook: put the browser library the HTML preview embeds into the wheel.

``package.json`` declares it and ``npm ci`` installs it into ``node_modules/``; building
copies its one file into ``netdraw/templates/html/vendor/`` of the build (never into the
source tree), so a wheel writes self-contained pages without npm. Everything else about the
package is in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
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
            raise SystemExit("netdraw: the HTML preview's browser library is not installed "
                             f"({', '.join(missing)}): run 'npm ci' first")
        target = Path(self.build_lib) / "netdraw" / "templates" / "html" / "vendor"
        target.mkdir(parents=True, exist_ok=True)
        for src, name in VENDORED.items():
            shutil.copyfile(src, target / name)


setup(cmdclass={"build_py": BuildWithBrowserLibraries})
