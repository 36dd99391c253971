"""What the test scripts in this folder share (each is run as `python3 scripts/lib/NAME.py`,
so this folder is on the import path)."""
import socket


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
