"""``netdraw serve``: the HTML preview over HTTP, reloaded when the model changes.

The page lays out every view itself (see :mod:`netdraw.backends.html`), so the server has
three routes and serves no files: ``/`` (the page of the last model that loaded), ``/events``
(server-sent events: ``hello`` on connect, ``reload`` after the model changed and loaded,
``failed`` with the error when it did not, ``inputs`` when the explorer's inputs changed)
and ``/status`` (the same facts as JSON). With ``--inputs DIR`` the explorer's routes under
``/explore/`` answer the page's questions about its inputs (:mod:`netdraw.server.explore`).
A watcher thread polls the model's file (for ``pkg.module:factory``, the module's source
file) four times a second and loads it again when it changes.

Safety: it binds loopback unless told otherwise; requests name a route exactly (anything
else, ``..`` included, is a 404, since nothing is read from disk); only GET and HEAD, with
no body and a request line under 8 KiB (the one exception: ``POST /explore/upload``, a file
dropped on the page, at most :data:`netdraw.server.explore.MAX_UPLOAD` bytes, checked
before it is read); the explorer's routes answer only the page's own requests (an
``X-Netdraw`` header, no other ``Origin``, ``Sec-Fetch-Site`` same-origin);
a ``Host`` header that is not this server's is refused (DNS rebinding); at most
:data:`MAX_CLIENTS` open connections, idle ones closed after 30 s; every response has
``Cache-Control: no-store`` and ``nosniff``.
"""

from __future__ import annotations

import queue
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from netdraw.errors import NetdrawError
from netdraw.ir import Graph
from netdraw.output import json_text
from netdraw.server.source import ModelSource, error_text

MAX_REQUEST_LINE = 8192
MAX_CLIENTS = 128
POLL_SECONDS = 0.25
KEEPALIVE_SECONDS = 15.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class Snapshot:
    """What the server shows: the page of the last good model and the last load error."""

    version: int
    page: bytes
    error: str | None = None


class Preview:
    """The current page, the event subscribers, and the watcher that reloads the model."""

    def __init__(self, source: ModelSource, render_page: Callable[[Graph, dict], str],
                 log: Callable[[str], None] | None = None) -> None:
        self.source = source
        self.render_page = render_page
        self.log = log or (lambda text: None)
        self.lock = threading.Lock()
        self.clients: list[queue.Queue] = []
        self.stopping = threading.Event()
        #: the explorer of the page being served (netdraw.server.explore.ExploreSession),
        #: set by ``render_page`` when ``netdraw serve`` has ``--inputs``
        self.explorer: Any = None
        graph = source.load()  # a model that does not load at start is the user's error
        self.snapshot = Snapshot(1, self._page(graph, 1))
        self._stamp = source.stamp()
        self.watcher = threading.Thread(target=self._watch, name="netdraw-watch", daemon=True)

    def _page(self, graph: Graph, version: int) -> bytes:
        serve = {"events": "/events", "version": version, "error": None}
        return self.render_page(graph, serve).encode("utf-8")

    # -- events ---------------------------------------------------------------------------
    def subscribe(self) -> queue.Queue:
        q: queue.Queue = queue.Queue()
        with self.lock:
            self.clients.append(q)
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        with self.lock:
            if q in self.clients:
                self.clients.remove(q)

    def publish(self, event: str, data: dict[str, Any] | None) -> None:
        with self.lock:
            for q in self.clients:
                q.put((event, data))

    def hello(self) -> dict[str, Any]:
        snap = self.snapshot
        return {"version": snap.version, "error": snap.error}

    # -- watching ---------------------------------------------------------------------------
    def start(self) -> None:
        self.watcher.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.explorer is not None:
            self.explorer.stop()
        self.publish("", None)  # wakes every event stream, which then ends

    def _watch(self) -> None:
        while not self.stopping.wait(POLL_SECONDS):
            stamp = self.source.stamp()
            if stamp == self._stamp:
                continue
            # Let an editor finish writing: wait until the file stops changing.
            time.sleep(0.1)
            settled = self.source.stamp()
            while settled != stamp and not self.stopping.is_set():
                stamp = settled
                time.sleep(0.1)
                settled = self.source.stamp()
            self._stamp = settled
            self.reload()

    def reload(self) -> None:
        """Load the model again: a new page and ``reload`` on success, else ``failed``."""
        try:
            graph = self.source.load()
            version = self.snapshot.version + 1
            page = self._page(graph, version)
        except Exception as exc:  # any failure of the user's model keeps the last good page
            text = error_text(exc)
            self.snapshot = Snapshot(self.snapshot.version, self.snapshot.page, text)
            self.log(f"netdraw: the model failed to load, still showing the last good one: "
                     f"{text}")
            self.publish("failed", {"version": self.snapshot.version, "error": text})
            return
        self.snapshot = Snapshot(version, page)
        self.log(f"netdraw: reloaded {self.source.spec} ({len(graph)} nodes)")
        self.publish("reload", {"version": version})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], preview: Preview, allowed_hosts: set[str]
                 | None) -> None:
        self.preview = preview
        self.allowed_hosts = allowed_hosts
        self.slots = threading.BoundedSemaphore(MAX_CLIENTS)
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def process_request(self, request, client_address) -> None:
        if not self.slots.acquire(blocking=False):
            try:
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                b"Connection: close\r\n\r\n")
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request, client_address) -> None:
        pass  # a client that went away is not news


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "netdraw"
    sys_version = ""
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        pass

    # Only GET and HEAD exist (and the explorer's upload); everything else is refused
    # without reading a body.
    def do_POST(self) -> None:
        if urlsplit(self.path).path == "/explore/upload" and \
                self.server.preview.explorer is not None:
            return self._upload()
        self._refuse(405, "only GET and HEAD")

    def do_PUT(self) -> None:
        self._refuse(405, "only GET and HEAD")

    do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = do_PUT

    def do_HEAD(self) -> None:
        self._route(head=True)

    def do_GET(self) -> None:
        self._route(head=False)

    def _route(self, head: bool) -> None:
        if len(self.requestline) > MAX_REQUEST_LINE:
            return self._refuse(414, "request line too long")
        if self.headers.get("Content-Length", "0").strip() not in ("", "0") or \
                self.headers.get("Transfer-Encoding"):
            return self._refuse(413, "requests carry no body here")
        if not self._host_ok():
            return self._refuse(421, "this server answers only to its own address")
        path = urlsplit(self.path).path
        preview = self.server.preview
        if path == "/":
            snap = preview.snapshot
            return self._send(200, "text/html; charset=utf-8", snap.page, head)
        if path == "/status":
            body = json_text({**preview.hello(), "model": preview.source.spec},
                             what="/status").encode()
            return self._send(200, "application/json", body, head)
        if path == "/events" and not head:
            return self._events()
        if path.startswith("/explore/") and preview.explorer is not None and not head:
            return self._explore(path[len("/explore/"):], urlsplit(self.path).query)
        return self._refuse(404, "not found")

    # -- the explorer ---------------------------------------------------------------------
    def _page_request(self) -> str | None:
        """Why a request to the explorer is not the page's own, or None."""
        if self.headers.get("X-Netdraw") != "1":
            return "the explorer answers its page's requests only"
        origin = self.headers.get("Origin")
        if origin is not None and origin != f"http://{self.headers.get('Host', '')}":
            return "requests from other origins are refused"
        site = self.headers.get("Sec-Fetch-Site")
        if site is not None and site not in ("same-origin", "none"):
            return "requests from other sites are refused"
        return None

    def _explore(self, route: str, query: str) -> None:
        from netdraw.server.explore import RequestError, answer_get

        refused = self._page_request()
        if refused:
            return self._json_error(403, refused)
        try:
            kind, body = answer_get(self.server.preview.explorer, route, query)
        except RequestError as exc:
            return self._json_error(exc.status, str(exc))
        except Exception as exc:  # noqa: BLE001 - the page shows why; serving goes on
            return self._json_error(500, error_text(exc))
        self._send(200, kind, body)

    def _upload(self) -> None:
        from netdraw.server.explore import MAX_UPLOAD, RequestError, upload_name

        self.close_connection = True
        if not self._host_ok():
            return self._refuse(421, "this server answers only to its own address")
        refused = self._page_request()
        if refused:
            return self._json_error(403, refused)
        if self.headers.get("Transfer-Encoding"):
            return self._json_error(411, "send the file with a Content-Length")
        length = (self.headers.get("Content-Length") or "").strip()
        if not length.isdigit():
            return self._json_error(411, "send the file with a Content-Length")
        if int(length) > MAX_UPLOAD:
            return self._json_error(413, f"the file is larger than {MAX_UPLOAD // 2**20} MB")
        data = self.rfile.read(int(length))
        if len(data) != int(length):
            return self._json_error(400, "the upload ended early")
        try:
            result = self.server.preview.explorer.upload(
                upload_name(self.headers.get("X-Netdraw-Name")), data)
        except RequestError as exc:
            return self._json_error(exc.status, str(exc))
        except Exception as exc:  # noqa: BLE001
            return self._json_error(500, error_text(exc))
        self._send(200, "application/json",
                   json_text(result, what="the upload's answer").encode("utf-8"))

    def _json_error(self, status: int, text: str) -> None:
        self._send(status, "application/json",
                   json_text({"error": text}, what="an error").encode("utf-8"))

    def _host_ok(self) -> bool:
        allowed = self.server.allowed_hosts
        if allowed is None:
            return True
        host = (self.headers.get("Host") or "").strip().lower()
        if host.startswith("["):
            name = host[1:host.find("]")] if "]" in host else host
        else:
            name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return name in allowed

    def _send(self, status: int, kind: str, body: bytes, head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _refuse(self, status: int, text: str) -> None:
        self.close_connection = True
        self._send(status, "text/plain; charset=utf-8", f"{status} {text}\n".encode())

    def _events(self) -> None:
        preview = self.server.preview
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Connection", "close")
        self.end_headers()
        q = preview.subscribe()
        try:
            self._event("hello", preview.hello())
            while not preview.stopping.is_set():
                try:
                    event, data = q.get(timeout=KEEPALIVE_SECONDS)
                except queue.Empty:
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
                    continue
                if data is None:
                    break
                self._event(event, data)
        except OSError:
            pass  # the page went away
        finally:
            preview.unsubscribe(q)

    def _event(self, event: str, data: dict[str, Any]) -> None:
        text = json_text(data, what=f"the {event} event")
        self.wfile.write(f"event: {event}\ndata: {text}\n\n".encode())
        self.wfile.flush()


def make_server(preview: Preview, host: str = "127.0.0.1", port: int = 8765) -> _Server:
    """A server for ``preview`` bound to ``host:port`` (port 0 picks a free one)."""
    if host in LOOPBACK or host.startswith("127."):
        allowed: set[str] | None = {"127.0.0.1", "localhost", "::1", host.lower()}
    elif host in ("0.0.0.0", "::", ""):
        allowed = None  # the user opened it to the network: any name may reach it
    else:
        allowed = {host.lower(), "localhost", "127.0.0.1", "::1"}
    try:
        return _Server((host, port), preview, allowed)
    except OSError as exc:
        if exc.errno in (98, 48, 10048):  # address in use (Linux, macOS, Windows)
            raise NetdrawError(f"port {port} on {host} is in use; choose another with --port "
                               "(--port 0 picks a free one)") from None
        raise NetdrawError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def url_of(server: _Server) -> str:
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def run_server(server: _Server, preview: Preview, on_ready: Callable[[str], None]) -> None:
    """Serve until Ctrl-C (or SIGTERM), then stop the watcher and close every stream."""
    import signal

    def terminate(*_: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate) \
        if threading.current_thread() is threading.main_thread() else None
    preview.start()
    on_ready(url_of(server))
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        preview.stop()
        server.server_close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        sys.stdout.flush()


__all__ = ["Preview", "Snapshot", "make_server", "run_server", "url_of"]
