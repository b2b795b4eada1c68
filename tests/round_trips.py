"""A TCP proxy in front of PostgreSQL that counts round trips: each time a client speaks after the server
did (or for the first time) is one. Statements sent together (a pipeline) and answered together count once.
Used by tests/test_pg_round_trips.py and bench/bench_postgres.py."""

from __future__ import annotations

import selectors
import socket
import threading
from types import TracebackType

from sqlalchemy.engine import make_url


class RoundTripCounter:
    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self._target = (parsed.host or "127.0.0.1", parsed.port or 5432)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.url = parsed.set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)
        self.trips = 0
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        client_spoke_last = False
        try:
            while True:
                for key, _ in selector.select():
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = source.recv(65536)
                    if not data:
                        return
                    if source is client:
                        if not client_spoke_last:
                            with self._lock:
                                self.trips += 1
                        client_spoke_last = True
                    else:
                        client_spoke_last = False
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            selector.close()
            client.close()
            upstream.close()

    def close(self) -> None:
        self._closed = True
        self._server.close()

    def __enter__(self) -> RoundTripCounter:
        return self

    def __exit__(self, *_exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.close()
