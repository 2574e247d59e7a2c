"""A real HTTP server on 127.0.0.1 (free port, own thread) for the tools' stand-ins."""

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    """A quiet request handler answering JSON; a tool's stand-in adds the headers that tool
    always sends (its rate-limit headers) in ``standing_headers``."""

    content_type = "application/json"

    def log_message(self, *args: Any) -> None:
        return None

    def standing_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Headers every answer carries unless the answer sets them itself."""
        return {}

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(data)))
        given = headers or {}
        for name, value in {**self.standing_headers(given), **given}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def running(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` until the block ends; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
