"""A small TCP proxy for fault tests: the service talks to a real server through it, and the
test cuts, stalls or half-closes the connection the way a flaky network or firewall does.

- `drop()`: every live connection is reset (RST), as when a NAT forgets it;
- `stall()` / `resume()`: bytes stop flowing both ways but sockets stay open, as when a link
  goes dead without telling anyone;
- `half_close()`: the server→client direction ends (the client reads EOF), the other stays;
- `refuse(True)`: new connections are accepted and closed at once;
- `trickle=True` / `set_trickle(True)`: server→client bytes go one per TCP segment, as a slow or
  fragmenting link delivers them, so every response line reaches the client split.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time


class TcpProxy:
    def __init__(
        self, target_port: int, target_host: str = "127.0.0.1", trickle: bool = False
    ) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._stalled = threading.Event()
        self._refusing = False
        self._closed = threading.Event()
        self._trickle = threading.Event()
        if trickle:
            self._trickle.set()
        self.connections = 0
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    # --- faults -------------------------------------------------------------------------------

    def drop(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, upstream in pairs:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    # linger 0: close sends RST, as a middlebox that forgot the flow does.
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sock.close()

    def stall(self) -> None:
        self._stalled.set()

    def resume(self) -> None:
        self._stalled.clear()

    def half_close(self) -> None:
        with self._lock:
            pairs = list(self._pairs)
        for client, _ in pairs:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_WR)

    def refuse(self, on: bool) -> None:
        self._refusing = on

    def set_trickle(self, on: bool) -> None:
        """Forward server→client bytes one at a time (each its own segment) while `on`."""
        if on:
            self._trickle.set()
        else:
            self._trickle.clear()

    def close(self) -> None:
        self._closed.set()
        self.drop()
        with contextlib.suppress(OSError):
            self._listener.close()

    # --- plumbing -----------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._refusing:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        open_ends = {client, upstream}
        while open_ends and not self._closed.is_set():
            if self._stalled.is_set():
                time.sleep(0.05)
                continue
            try:
                readable, _, _ = select.select(list(open_ends), [], [], 0.1)
            except (OSError, ValueError):
                return
            for sock in readable:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    open_ends.discard(sock)
                    with contextlib.suppress(OSError):
                        peers[sock].shutdown(socket.SHUT_WR)
                    continue
                try:
                    if sock is upstream and self._trickle.is_set():
                        self._send_bytewise(client, data)
                    else:
                        peers[sock].sendall(data)
                except OSError:
                    return

    @staticmethod
    def _send_bytewise(sock: socket.socket, data: bytes) -> None:
        # Without Nagle each one-byte send leaves as its own segment; the pause keeps the
        # receiver from finding them already coalesced in its buffer.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            sock.sendall(data[i : i + 1])
            time.sleep(0.0002)
