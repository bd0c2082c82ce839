"""Who recorded a run: a process named across pid reuse, and whether that process is certainly gone."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

__all__ = ["writer_gone", "writer_identity"]


def writer_identity(pid: int | None = None) -> str | None:
    """Names process ``pid`` (this one by default) across pid reuse: host, boot and start time.

    ``None`` when no such process is alive (a zombie counts as gone).
    """
    pid = os.getpid() if pid is None else pid
    host = socket.gethostname()
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:  # no /proc (macOS, Windows): the pid alone has to do
        return f"{host} - -" if _pid_alive(pid) else None
    # the command name, in parentheses, may hold spaces: the fields after it are split safely
    fields = stat[stat.rfind(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = "-"
    return f"{host} {boot} {fields[19]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process
        return True
    return True


def writer_gone(pid: Any, writer: Any) -> bool:
    """Whether the process that recorded a run is certainly gone (another host's: never certain)."""
    if not isinstance(pid, int) or not isinstance(writer, str) or pid <= 0:
        return False
    host, _, identity = writer.partition(" ")
    if host != socket.gethostname():
        return False
    now = writer_identity(pid)
    if now is None:
        return True
    boot, _, started = identity.partition(" ")
    if boot == "-" or started == "-":
        return False  # only the pid is known, and a process has it
    return now != writer
