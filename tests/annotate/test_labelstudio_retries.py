"""One retry policy: how many HTTP requests one failing call makes, counted on
tiny local servers (one answering 503, one never answering) and on a port
nobody listens on. The SDK's own retries are off (`connect` passes
max_retries=0): with them on top of ours, one call against a 503 made 12
requests, and a server that was down took three tries before saying so."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from typing import Iterator

import httpx
import pytest
from conftest import free_port

from parallel_corpus.annotate import labelstudio as ls

KEY = "k" * 40


class Counting(http.server.BaseHTTPRequestHandler):
    """Counts each request, then answers with the server's `status` (or not at all)."""

    def do_GET(self) -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        status = self.server.status  # type: ignore[attr-defined]
        if status is None:
            time.sleep(1.0)  # longer than the client's timeout: it gives up first
            return
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        body = b'{"detail": "busy"}'
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def _serve(status) -> Iterator[tuple[str, list[str]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    server.daemon_threads = True
    server.hits, server.status = [], status  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.hits  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def busy():
    yield from _serve(503)


@pytest.fixture
def silent():
    yield from _serve(None)


@pytest.fixture
def forbidden():
    yield from _serve(403)


def test_a_server_answering_503_gets_four_requests_then_one_line(busy):
    url, hits = busy
    with pytest.raises(ls.LabelStudioError) as err:
        ls.connect(url, KEY, timeout=5)
    assert len(hits) == ls.RETRY_ATTEMPTS == 4
    assert str(err.value) == f'Label Studio at {url} answered 503 4 times ({{"detail": "busy"}}): check scripts/labelstudio status and try again'


def test_a_server_that_never_answers_gets_four_requests_then_one_line(silent):
    url, hits = silent
    with pytest.raises(ls.LabelStudioError) as err:
        ls.connect(url, KEY, timeout=0.3)
    assert len(hits) == 4
    assert str(err.value) == f"Label Studio at {url} timed out 4 times: check scripts/labelstudio status"


def test_another_error_is_not_retried(forbidden):
    url, hits = forbidden
    with pytest.raises(ls.LabelStudioError, match=r"answered 403: \{\"detail\": \"busy\"\}$"):
        ls.connect(url, KEY, timeout=5)
    assert len(hits) == 1


def test_a_server_that_is_down_gets_one_request_and_the_one_line_error(monkeypatch):
    sent = []
    handle = httpx.HTTPTransport.handle_request

    def counting(self, request):
        sent.append(request.url)
        return handle(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", counting)
    port = free_port()
    with socket.socket() as probe:  # nobody listens there
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    t0 = time.monotonic()
    with pytest.raises(ls.LabelStudioError) as err:
        ls.connect(f"http://127.0.0.1:{port}", KEY, timeout=5)
    assert len(sent) == 1 and time.monotonic() - t0 < 1.0
    assert str(err.value) == f"Label Studio at http://127.0.0.1:{port} does not answer: start it with scripts/labelstudio start"
