"""Screenshot of the interactive HTML preview for the README: ``gallery/NAME.preview.png``.

Run it after ``bash scripts/dev.sh gallery`` (which writes the pages it photographs)::

    PYTHONPATH=$PWD .venv/bin/python scripts/preview_screenshot.py
    PYTHONPATH=$PWD .venv/bin/python scripts/preview_screenshot.py --page resnet18 \\
        --view '#depth=1' -o /tmp/r18.png

It opens a page of ``gallery/`` in headless Chromium (Debian's ``/usr/bin/chromium`` through
Playwright, every request outside the page's folder refused), waits until the view the
fragment names is laid out, and saves the window without the status bar (it states the
layout time, which differs from run to run). The default shows ResNet-50 with the
bottleneck ``layer3.0`` opened and its ``conv2`` selected, so the side panel lists what the
page knows of a layer.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

#: What the README shows: a block opened in place and one of its layers in the side panel.
DEFAULT_PAGE = "resnet50"
DEFAULT_VIEW = "#depth=2&open=layer3%2Flayer3.0&select=n%3Alayer3.0.conv2"
WINDOW = (1280, 760)


def screenshot(page_file: Path, view: str, target: Path) -> None:
    """Open ``page_file`` at the fragment ``view`` and write the PNG ``target``."""
    from playwright.sync_api import sync_playwright

    own = page_file.resolve().as_uri()
    folder = page_file.resolve().parent.as_uri() + "/"  # the page and files beside it
    refused: list[str] = []

    def route(r) -> None:
        url = r.request.url
        if url.startswith((folder, "data:", "blob:")):
            r.continue_()
        else:
            refused.append(url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": WINDOW[0], "height": WINDOW[1]},
                                          device_scale_factor=1)
            context.route("**/*", route)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(own + view)
            page.wait_for_selector("body[data-ready='1']", timeout=120_000)
            page.wait_for_selector("body[data-graphviz='1']", timeout=120_000)
            page.wait_for_timeout(1000)  # the re-layout the fragment asked for, then paint
            if errors or refused:
                raise SystemExit(f"the page failed: {errors or refused}")
            status = page.evaluate("document.querySelector('footer, #nd-status')"
                                   "?.getBoundingClientRect().top ?? null")
            height = int(status) if status else WINDOW[1]
            target.write_bytes(page.screenshot(
                clip={"x": 0, "y": 0, "width": WINDOW[0], "height": height}))
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", default=DEFAULT_PAGE,
                        help="the gallery page gallery/PAGE.html (default: %(default)s)")
    parser.add_argument("--view", default=DEFAULT_VIEW,
                        help="the URL fragment of the view to show (default: %(default)s)")
    parser.add_argument("-o", "--output", type=Path,
                        help="the PNG to write (default: gallery/PAGE.preview.png)")
    args = parser.parse_args(argv)
    page_file = ROOT / "gallery" / f"{args.page}.html"
    if not page_file.is_file():
        print(f"preview_screenshot: no {page_file}: run 'bash scripts/dev.sh gallery' first",
              file=sys.stderr)
        return 2
    target = args.output or ROOT / "gallery" / f"{args.page}.preview.png"
    screenshot(page_file, args.view, target)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
