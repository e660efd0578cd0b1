"""A TCP proxy in front of the server that cuts log streams, as a flaky network would.

Each of the first ``cuts`` connections that carry ``POST /requester/logs`` is cut right
after it forwarded ``after_records`` log records (the line of the last one included), so
the client sees those records and then a broken stream, never the End. With
``after_records=0`` a logs request is cut before any answer.
"""

import re
import socket
import threading
from typing import List

_RECORD = re.compile(rb'"Tag":[12][,}]')


class CuttingProxy:
    def __init__(self, target: str, after_records: int, cuts: int) -> None:
        host, port = target.rsplit("//", 1)[-1].rsplit(":", 1)
        self.target = (host, int(port))
        self.after_records = after_records
        self.cuts = cuts
        self.cut_count = 0
        self.log_connections = 0
        self._lock = threading.Lock()
        self._sockets: List[socket.socket] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        with self._lock:
            socks = [self._listener, *self._sockets]
        for s in socks:
            _close(s)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            conn = _Connection(self, client, upstream)
            threading.Thread(target=conn.up, daemon=True).start()
            threading.Thread(target=conn.down, daemon=True).start()

    def _take_cut(self) -> bool:
        with self._lock:
            if self.cut_count >= self.cuts:
                return False
            self.cut_count += 1
            return True


class _Connection:
    def __init__(self, proxy: CuttingProxy, client: socket.socket, upstream: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.logs = threading.Event()
        self.cutting = False
        self.records = 0

    def cut(self) -> None:
        _close(self.client)
        _close(self.upstream)

    def up(self) -> None:
        """Client to server; notices a logs request (and cuts it at once with 0 records)."""
        while True:
            try:
                data = self.client.recv(65536)
            except OSError:
                data = b""
            if not data:
                _close(self.upstream)
                return
            if b"/requester/logs" in data and not self.logs.is_set():
                with self.proxy._lock:
                    self.proxy.log_connections += 1
                self.cutting = self.proxy._take_cut()
                self.logs.set()
                if self.cutting and self.proxy.after_records == 0:
                    self.cut()
                    return
            try:
                self.upstream.sendall(data)
            except OSError:
                return

    def down(self) -> None:
        """Server to client; on a connection being cut, forwards up to the end of the
        cut-off record's line, then closes both sides."""
        while True:
            try:
                data = self.upstream.recv(65536)
            except OSError:
                data = b""
            if not data:
                _close(self.client)
                return
            if self.cutting and self.logs.is_set():
                end = self._cut_point(data)
                if end is not None:
                    try:
                        self.client.sendall(data[:end])
                    finally:
                        self.cut()
                    return
            try:
                self.client.sendall(data)
            except OSError:
                return

    def _cut_point(self, data: bytes) -> "int | None":
        if self.records >= self.proxy.after_records:
            nl = data.find(b"\n")
            return None if nl < 0 else nl + 1
        for m in _RECORD.finditer(data):
            self.records += 1
            if self.records >= self.proxy.after_records:
                nl = data.find(b"\n", m.end())
                return None if nl < 0 else nl + 1
        return None


def _close(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()
