"""Whether the chat's port is free: checked before Gradio and the engine load, so a busy port is
reported at once instead of after seconds of start-up."""
from __future__ import annotations

import socket


def port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # As a server binds it: a port left in TIME_WAIT by a chat that just ended is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def free_port_after(host: str, port: int) -> int:
    """The first free port after `port` (within 100), to suggest instead."""
    return next((p for p in range(port + 1, port + 100) if not port_taken(host, p)), port + 1)
