"""A real HTTP server on 127.0.0.1 for the tests: news sites, feeds and a webhook receiver.

It serves ``tests/fixtures/site`` with ``{base}`` replaced by its own address, answers
conditional GETs with 304, and records every request and every webhook body it receives.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SITE = Path(__file__).parent / "fixtures" / "site"
# Paths that fail on purpose, whatever the site folder holds.
FAILING = {"/articles/server-error.html": 500}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait between headers and body (a slow server)
    drip: float = 0.0  # seconds between each byte of the body (a server that drips)
    declare_length: bool = True  # False: no Content-Length; the body ends when the connection does


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Loopback:
    """The server's state: routes that override the site folder, and what it received."""

    def __init__(self) -> None:
        # A path answers with its Response, or with each Response of a list in turn
        # (the last one repeats).
        self.routes: dict[str, Response | list[Response]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.webhooks: list[dict] = []
        self.webhook_failures = 0  # answer this many webhook posts with 500 first
        self.started: list[tuple[str, float]] = []  # (path, monotonic time) of each GET
        self.spans: list[tuple[str, float, float]] = []  # (path, start, end) of each answered GET
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> Loopback:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        self.routes.clear()
        self.requests.clear()
        self.webhooks.clear()
        self.started.clear()
        self.spans.clear()
        self.webhook_failures = 0

    def url(self, path: str) -> str:
        return self.base + path

    def answered(self, paths: set[str], count: int, timeout: float = 5.0) -> list[tuple[float, float]]:
        """The (start, end) of each GET of ``paths`` the server has finished answering, sorted,
        once there are ``count`` of them: a handler records its span after the last byte is
        sent, which can be just after the client has read it."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                spans = sorted((start, end) for path, start, end in self.spans if path in paths)
            if len(spans) >= count or time.monotonic() > deadline:
                return spans
            time.sleep(0.01)

    def hits(self, path: str) -> int:
        return sum(1 for method, p, _ in self.requests if method == "GET" and p.split("?")[0] == path)

    def _get(self, path: str, headers: dict[str, str]) -> Response:
        if path in self.routes:
            route = self.routes[path]
            if isinstance(route, list):
                return route.pop(0) if len(route) > 1 else route[0]
            return route
        if path in FAILING:
            return Response(FAILING[path], b"internal error")
        file = (SITE / path.lstrip("/")).resolve()
        if SITE.resolve() not in file.parents or not file.is_file():
            return Response(404, b"not found")
        body = file.read_bytes().replace(b"{base}", self.base.encode())
        kind = "text/html; charset=utf-8" if file.suffix == ".html" else "application/xml"
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if headers.get("if-none-match") == etag:
            return Response(304, b"", {"ETag": etag})
        return Response(200, body, {"Content-Type": kind, "ETag": etag})

    def _post(self, path: str, body: bytes) -> Response:
        if path.startswith("/hook"):
            if self.webhook_failures > 0:
                self.webhook_failures -= 1
                return Response(500, b"receiver down")
            self.webhooks.append(json.loads(body or b"{}"))
            return Response(200, b"ok")
        return Response(404, b"not found")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        loopback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                path, start = self.path.split("?")[0], time.monotonic()
                with loopback._lock:
                    loopback.requests.append(("GET", self.path, headers))
                    loopback.started.append((path, start))
                self._send(loopback._get(path, headers))
                with loopback._lock:
                    loopback.spans.append((path, start, time.monotonic()))

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                loopback.requests.append(("POST", self.path, dict(self.headers.items())))
                self._send(loopback._post(self.path, body))

            def _send(self, response: Response) -> None:
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                if response.declare_length:
                    self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if response.delay:
                    self.wfile.flush()
                    time.sleep(response.delay)
                # The client may give up first, as it should on a slow server.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    if response.drip:
                        for n in range(len(response.body)):
                            self.wfile.write(response.body[n : n + 1])
                            self.wfile.flush()
                            time.sleep(response.drip)
                    else:
                        self.wfile.write(response.body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler
