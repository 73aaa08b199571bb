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

    def render_page(graph, serve):
        return render(graph, "html", view=options, rankdir=args.rankdir, title=args.title,
                      serve=serve)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    source = ModelSource(args.model, args.input_shape, args.input_dtype)
    preview = Preview(source, render_page, log)
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
