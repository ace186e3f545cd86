"""A port Lantern picks for a service is one the kernel never hands out by itself, so a service killed
and started again finds its port still free."""

from __future__ import annotations

import socket

from lantern.infra import ephemeral_ports, free_port


def test_a_picked_port_is_free_and_below_the_kernel_s_ephemeral_range() -> None:
    ephemeral = ephemeral_ports()
    for _ in range(20):
        port = free_port()
        assert port not in ephemeral
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", port))


def test_a_port_in_use_is_not_picked_again() -> None:
    held = []
    try:
        for _ in range(30):
            listener = socket.socket()
            listener.bind(("127.0.0.1", free_port()))
            listener.listen()
            held.append(listener)
        assert len({listener.getsockname()[1] for listener in held}) == len(held)
    finally:
        for listener in held:
            listener.close()
