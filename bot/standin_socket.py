"""The stand-in's Socket Mode side: a WebSocket server on 127.0.0.1 playing Slack's Socket Mode endpoint.

`apps.connections.open` at the stand-in hands out its URL. Each connection is greeted with `hello`, as Slack
does; the test (or console) then sends envelopes (slash commands, interactions, events) and reads the acks
the bot sends back. It can also ask the bot to reconnect (`disconnect`) or drop the socket without a word,
as a network failure would. Written on the standard library (RFC 6455 framing), so it needs no dependency.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA


def _frame(opcode: int, data: bytes) -> bytes:
    """A server frame (servers never mask)."""
    head = bytes([0x80 | opcode])
    if len(data) < 126:
        head += bytes([len(data)])
    elif len(data) < 1 << 16:
        head += bytes([126]) + struct.pack("!H", len(data))
    else:
        head += bytes([127]) + struct.pack("!Q", len(data))
    return head + data


def _read_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _read_frame(sock: socket.socket) -> tuple[int, bytes]:
    first, second = _read_exact(sock, 2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", _read_exact(sock, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", _read_exact(sock, 8))[0]
    mask = _read_exact(sock, 4) if second & 0x80 else b""
    data = _read_exact(sock, length)
    if mask:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return first & 0x0F, data


@dataclass
class SocketConnection:
    """One WebSocket the bot opened."""

    number: int
    sock: socket.socket
    path: str
    opened_at: float
    closed: bool = False
    _send_lock: threading.Lock = field(default_factory=threading.Lock)

    def send_text(self, message: dict[str, Any]) -> None:
        with self._send_lock:
            self.sock.sendall(_frame(OP_TEXT, json.dumps(message).encode()))


@dataclass
class SocketModeServer:
    connections: list[SocketConnection] = field(default_factory=list)
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)  # envelope_id -> what the bot sent back
    received: list[dict[str, Any]] = field(default_factory=list)  # every text message from the bot

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._numbers = itertools.count(1)
        self._listener: socket.socket | None = None

    # ----- lifecycle -------------------------------------------------------------------------------
    def start(self) -> SocketModeServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept_loop, name="standin-socket-mode", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for conn in list(self.connections):
            self._close(conn)

    def url(self) -> str:
        assert self._listener is not None, "socket mode server not started"
        port = self._listener.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket={uuid.uuid4().hex}"

    def reset(self) -> None:
        for conn in list(self.connections):
            self._close(conn)
        with self._lock:
            self.connections.clear()
            self.acks.clear()
            self.received.clear()

    # ----- what the bot sees -----------------------------------------------------------------------
    @property
    def current(self) -> SocketConnection | None:
        with self._lock:
            live = [c for c in self.connections if not c.closed]
        return live[-1] if live else None

    def send_envelope(
        self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = False
    ) -> str:
        """Sends one envelope over the newest connection; returns its envelope_id (to wait for the ack)."""
        conn = self.current
        if conn is None:
            raise RuntimeError("the bot is not connected")
        envelope_id = str(uuid.uuid4())
        conn.send_text(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": accepts_response_payload,
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return envelope_id

    def ask_to_reconnect(self, reason: str = "refresh_requested") -> None:
        """What Slack sends before it retires a connection: the client should open a new one."""
        conn = self.current
        if conn is not None:
            conn.send_text({"type": "disconnect", "reason": reason, "debug_info": {"host": "standin"}})

    def drop(self) -> None:
        """Ends the newest connection without a close frame, as a network failure does."""
        conn = self.current
        if conn is not None:
            self._close(conn)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(min(remaining, 0.1))
        return True

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any] | None:
        self.wait_for(lambda: envelope_id in self.acks, timeout)
        return self.acks.get(envelope_id)

    def wait_for_connection(self, count: int, timeout: float = 10.0) -> bool:
        return self.wait_for(
            lambda: len(self.connections) >= count and not self.connections[count - 1].closed, timeout
        )

    # ----- the server ------------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while self._listener is not None:
            try:
                sock, _addr = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = sock.recv(4096)
                if not chunk:
                    sock.close()
                    return
                request += chunk
            lines = request.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])
            }
            accept = base64.b64encode(
                hashlib.sha1((headers["sec-websocket-key"] + WEBSOCKET_GUID).encode()).digest()
            ).decode()
            sock.sendall(
                (
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
                ).encode()
            )
        except (OSError, KeyError, IndexError):
            sock.close()
            return
        conn = SocketConnection(number=next(self._numbers), sock=sock, path=path, opened_at=time.time())
        with self._lock:
            self.connections.append(conn)
            self._lock.notify_all()
        try:
            conn.send_text(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "standin", "approximate_connection_time": 3600},
                    "connection_info": {"app_id": "AECMSTANDIN"},
                }
            )
            while True:
                opcode, data = _read_frame(sock)
                if opcode == OP_PING:
                    with conn._send_lock:
                        sock.sendall(_frame(OP_PONG, data))
                elif opcode == OP_TEXT:
                    message = json.loads(data.decode())
                    with self._lock:
                        self.received.append(message)
                        if "envelope_id" in message:
                            self.acks[message["envelope_id"]] = message
                        self._lock.notify_all()
                elif opcode == OP_CLOSE:
                    with conn._send_lock:
                        sock.sendall(_frame(OP_CLOSE, data[:2]))
                    break
        except (OSError, ConnectionError, ValueError):
            pass
        self._close(conn)

    def _close(self, conn: SocketConnection) -> None:
        with self._lock:
            if conn.closed:
                return
            conn.closed = True
            self._lock.notify_all()
        with contextlib.suppress(OSError):
            conn.sock.shutdown(socket.SHUT_RDWR)
        conn.sock.close()
