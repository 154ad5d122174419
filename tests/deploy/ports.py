"""Free TCP ports for the servers the deployment checks start."""

from __future__ import annotations

import random
import socket
from pathlib import Path

_handed_out: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    """The ports the kernel picks for outgoing connections and for bind(0)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A port free now on 127.0.0.1, below the kernel's ephemeral range: a port from bind(0)
    is one the kernel may hand to someone's outgoing connection (Kafka's own, say) before
    our server binds it, which failed a run with "Address already in use". No port is
    handed out twice in one run."""
    low, _ = _ephemeral_range()
    candidates = list(range(max(10_000, low - 20_000), low))
    random.shuffle(candidates)
    for port in candidates:
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
