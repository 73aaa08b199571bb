"""``netdraw serve MODEL``: the interactive preview in the browser, reloaded on every change
of the model (its file, or the source file of ``pkg.module:factory``)."""

from __future__ import annotations

import argparse
import sys

from netdraw.cli.common import VIEW_HELP, add_model_arguments, add_view_arguments, view_options


def add_parser(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser(
        "serve", help="serve the interactive preview; reload it when the model changes",
        description="Serve MODEL's interactive HTML preview (the page 'netdraw draw MODEL -o "
                    "model.html' writes) and reload open pages when the model file, or the "
                    "source file of pkg.module:factory, changes. A change that does not load "
                    "shows its error in the page and keeps the last good graph.",
        epilog=VIEW_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(serve)
    serve.add_argument("--port", type=int, default=8765,
                       help="port to listen on (default 8765; 0 picks a free one)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only; "
                            "0.0.0.0 opens it to the network)")
    serve.add_argument("--open", action="store_true", help="open the page in a web browser")
    serve.add_argument("--rankdir", default="TB", choices=["TB", "LR", "BT", "RL"],
                       help="layout direction: top-to-bottom (default) or left-to-right")
    serve.add_argument("--title", help="title drawn above the diagram (default: model name)")
    explore = serve.add_argument_group(
        "explorer", "With --inputs, the page explores what the network computes: pick an "
                    "input from DIR (or drop a file on the page), see every layer's "
                    "channels, the predictions and class-activation maps, and per channel "
                    "the inputs of DIR that excite it most.")
    explore.add_argument("--inputs", metavar="DIR",
                         help="a folder of images (.png .jpg .bmp) or .npy arrays; files "
                              "added to it while serving become inputs too")
    explore.add_argument("--labels", metavar="FILE",
                         help="class names, one a line (default: the model's own, else "
                              "class 0, class 1, …)")
    explore.add_argument("--normalize", default="none", metavar="imagenet|none|MEAN,STD",
                         help="after scaling pixels to 0-1: none (default), imagenet "
                              "mean/std, or MEAN,STD")
    add_view_arguments(serve)


def run(args: argparse.Namespace) -> int:
    from netdraw.api import render
    from netdraw.backends.html import assets
    from netdraw.errors import NetdrawError
    from netdraw.server import ModelSource, Preview, make_server, run_server

    if not 0 <= args.port <= 65535:
        raise NetdrawError(f"--port must be 0 to 65535, not {args.port}")
    options = view_options(args)
    assets.graphviz_script()  # fails early when the page cannot be made here
    explorer = _Explorers(args) if args.inputs else None

    def render_page(graph, serve):
        if explorer is None:
            return render(graph, "html", view=options, rankdir=args.rankdir,
                          title=args.title, serve=serve)
        session = explorer.new_session()
        try:
            page = render(graph, "html", view=options, rankdir=args.rankdir,
                          title=args.title, serve=serve, explorer=session.page_data)
        except BaseException:
            session.stop()
            raise
        explorer.use(session)
        return page

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    source = ModelSource(args.model, args.input_shape, args.input_dtype)
    preview = Preview(source, render_page, log)
    if explorer is not None:
        explorer.attach(preview)
    server = make_server(preview, args.host, args.port)

    def ready(url: str) -> None:
        watched = ", ".join(str(p) for p in source.watched()) or "nothing (a built-in model)"
        print(f"netdraw: serving {args.model} at {url} (watching {watched}; Ctrl-C stops)",
              flush=True)
        if args.open:
            import webbrowser

            webbrowser.open(url)

    run_server(server, preview, ready)
    print("netdraw: stopped", flush=True)
    return 0


class _Explorers:
    """The explorer session of the page being served: a new one for each page (the model
    reloaded), started once the page is made; the one before is stopped."""

    def __init__(self, args: argparse.Namespace) -> None:
        from pathlib import Path

        from netdraw.errors import NetdrawError
        from netdraw.viz.explore import read_labels
        from netdraw.viz.inputs import parse_normalize

        self.args = args
        self.folder = Path(args.inputs)
        if not self.folder.is_dir():
            raise NetdrawError(f"--inputs {args.inputs}: no such folder")
        self.labels = read_labels(args.labels) if args.labels else None
        self.normalize = parse_normalize(args.normalize)
        self.preview = None
        self.current = None

    def new_session(self):
        from netdraw.cli.common import open_from_args
        from netdraw.server.explore import ExploreSession, InputFolder

        opened = open_from_args(self.args)
        folder = InputFolder(self.folder, opened.spec, self.normalize)
        return ExploreSession(opened, folder, self.labels, self.publish)

    def publish(self, event: str, data: dict) -> None:
        if self.preview is not None and self.preview.explorer is self.current:
            self.preview.publish(event, data)

    def use(self, session) -> None:
        before, self.current = self.current, session
        if self.preview is not None:
            self.preview.explorer = session
            session.start()
        if before is not None:
            before.stop()

    def attach(self, preview) -> None:
        self.preview = preview
        preview.explorer = self.current
        self.current.start()
