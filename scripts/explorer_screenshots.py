"""Screenshots of the explorer for the gallery: ``netdraw serve zoo:shapes --inputs DIR`` on
16 of the shapes network's test images, in headless Chromium.

    PYTHONPATH=$PWD .venv/bin/python scripts/explorer_screenshots.py [gallery]

Writes ``explorer-grid.png`` (a layer's channels), ``explorer-channel.png`` (one channel
over the input, its statistics and the folder's inputs that excite it most) and
``explorer-cam.png`` (Grad-CAM for a chosen class) into the folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def wait(page, expression: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {expression}")
        time.sleep(0.1)


def click_node(page, name: str) -> None:
    key = page.evaluate(f"""(() => {{ const i = window.netdraw.model.nodes.findIndex(
      (n) => n.name === {name!r}); return window.netdraw.view.nodes.find(
      (v) => v.type === 'node' && v.index === i).key; }})()""")
    page.locator(f'#nd-graph g.node[data-key="{key}"]').click()


def main() -> int:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from netdraw.zoo.shapes import CLASSES, make_batch

    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "gallery")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "shapes"
        folder.mkdir()
        images, _, _ = make_batch(16, seed=26)
        for k, image in enumerate(images):
            Image.fromarray((image.transpose(1, 2, 0) * 255).round().astype(np.uint8)).save(
                folder / f"shape{k:02d}.png")
        labels = Path(tmp) / "labels.txt"
        labels.write_text("\n".join(CLASSES) + "\n")
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        server = subprocess.Popen([sys.executable, "-m", "netdraw", "serve", "zoo:shapes",
                                   "--inputs", str(folder), "--labels", str(labels),
                                   "--port", "0"], stdout=subprocess.PIPE, text=True, env=env)
        try:
            line = server.stdout.readline()
            url = line[line.index("http://"):].split()[0]
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                            args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1080})
                page.goto(url)
                wait(page, "document.body.dataset.explorer === '1'")
                wait(page, "document.querySelector('.nd-x-progress').dataset.done === '1'")
                page.locator('.nd-x-input[data-input="7"]').click()
                wait(page, "document.body.dataset.input === '7'")
                # the layer grid
                click_node(page, "block3.conv")
                wait(page, "document.querySelectorAll('#nd-x-grid .nd-x-tile').length > 0")
                page.evaluate("document.querySelector('#nd-x-grid').closest('section')"
                              ".scrollIntoView()")
                page.wait_for_timeout(500)
                page.screenshot(path=str(out / "explorer-grid.png"))
                # a channel (the second strongest) and the inputs that excite it most
                page.locator("#nd-x-grid .nd-x-tile").nth(1).click()
                wait(page, "document.querySelectorAll('#nd-x-examples .nd-x-example')"
                           ".length > 0 && document.querySelector('#nd-x-ascent img')")
                page.evaluate("document.querySelector('#nd-x-channel').scrollIntoView()")
                page.wait_for_timeout(500)
                page.screenshot(path=str(out / "explorer-channel.png"))
                # the CAM for a chosen class: another class first, then the top one
                page.keyboard.press("Escape")
                wait(page, "document.querySelector('#nd-x-cam-class') !== null")
                rows = page.evaluate("[...document.querySelectorAll('#nd-x-predictions li')]"
                                     ".map((li) => li.dataset.class)")
                for chosen in (rows[1], rows[0]):
                    page.select_option("#nd-x-cam-class", chosen)
                    wait(page, "document.querySelector('#nd-x-cam').dataset.class === "
                               f"'{chosen}'")
                page.wait_for_timeout(500)
                page.screenshot(path=str(out / "explorer-cam.png"))
                browser.close()
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(30)
    for name in ("grid", "channel", "cam"):
        print(f"wrote {out / f'explorer-{name}.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
