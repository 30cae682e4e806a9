"""The loopback address the local stack's servers listen on, and their ports."""

from __future__ import annotations

import socket

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def ensure_port_free(port: int, option: str) -> None:
    """Fail with advice; moto's server thread would otherwise hang on a taken port.

    SO_REUSEADDR, as the servers set it themselves: sockets of a stack that has
    just stopped linger in TIME_WAIT, and must not block a restart.
    """
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as error:
            raise RuntimeError(
                f"{HOST}:{port} is already in use; pick another port with {option}"
            ) from error
