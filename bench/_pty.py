"""A terminal for the studio bench: the real program in a pseudo-terminal, its output on a pyte screen.

The bench is the terminal: it answers the one query Textual waits on (synchronized output, mode
2026, which every modern terminal supports), so each frame the app paints arrives between "begin" and
"end" markers. A frame is counted, and the screen's text is looked at, when its "end" marker is read;
the time of a frame is the moment the bytes that end it were read from the pty. A small process of
its own reads the pty and notes that moment as the bytes come (the monotonic clock is the machine's,
the same in every process), so a frame is not timed late while pyte is still parsing the one before
it: pyte takes 5-20 ms for a full 160×48 frame, and a reading thread in the bench's own process waited
up to 12 ms for the interpreter. A terminal a user looks at draws apart from the program; so does this.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import queue
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pyte

__all__ = ["Frame", "Terminal", "children", "io_wchar", "rss_mb"]

SYNC_QUERY = b"\x1b[?2026$p"
SYNC_REPLY = b"\x1b[?2026;2$y"  # supported, currently reset
SYNC_END = b"\x1b[?2026l"

_HEADER = struct.Struct("<dI")  # the moment a chunk was read, its length

# The reader: reads the pty as the bytes come, answers the synchronized-output query as a terminal
# does, and hands each chunk on with the moment it was read.
_READER = f"""
import os, struct, sys, time
fd, out = int(sys.argv[1]), sys.stdout.fileno()
header, tail = struct.Struct("<dI"), b""
while True:
    try:
        data = os.read(fd, 1 << 20)
    except OSError:
        break
    moment = time.perf_counter()
    if not data:
        break
    if {SYNC_QUERY!r} in tail + data:
        os.write(fd, {SYNC_REPLY!r})
    tail = (tail + data)[-16:]
    view = memoryview(header.pack(moment, len(data)) + data)
    while view:
        view = view[os.write(out, view):]
"""


def rss_mb(pid: int) -> float | None:
    """``VmRSS`` of a process, in MB (None when it is gone or there is no /proc)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (from /proc)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(part) for part in text.split()]


def io_wchar(pid: int) -> int | None:
    """Bytes a process has written so far (``/proc/PID/io``), None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/io").read_text()
    except OSError:
        return None
    match = re.search(r"^wchar:\s*(\d+)", text, re.MULTILINE)
    return int(match.group(1)) if match else None


class Frame:
    """One painted frame: when its last byte was read, and the screen's text then."""

    __slots__ = ("lines", "time")

    def __init__(self, moment: float, lines: list[str]) -> None:
        self.time = moment
        self.lines = lines

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


Check = Callable[[Frame], bool]


class Terminal:
    """``argv`` started in a pty of ``columns`` × ``rows``; ``launched`` is the moment before the fork."""

    def __init__(self, argv: Sequence[str], *, cwd: Path, columns: int = 160, rows: int = 48) -> None:
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.frames = 0
        self.synced = False
        self.last: Frame = Frame(0.0, [])
        #: called with each frame (for counting distinct states); set by the caller
        self.on_frame: Callable[[Frame], None] | None = None
        #: called on every read with its time (for polling /proc while the app runs)
        self.on_read: Callable[[float], None] | None = None
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLORTERM": "truecolor",
            "COLUMNS": str(columns),
            "LINES": str(rows),
        }
        env.pop("TEXTUAL", None)
        self.launched = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # the child: the program, as a user starts it
            try:
                os.chdir(cwd)
                os.execve(argv[0], list(argv), env)
            finally:
                os._exit(127)
        self.pid = pid
        self.fd = fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self._tail = b""
        self._chunks: queue.SimpleQueue[tuple[float, bytes] | None] = queue.SimpleQueue()
        self._gone = False
        self._reader = subprocess.Popen(
            [sys.executable, "-c", _READER, str(fd)], stdout=subprocess.PIPE, pass_fds=(fd,)
        )
        threading.Thread(target=self._take_chunks, name="pty-chunks", daemon=True).start()

    # ------------------------------------------------------------------ reading

    def _take_chunks(self) -> None:
        """Queue each chunk the reader read, with its moment; None once the program has gone."""
        pipe = self._reader.stdout
        assert pipe is not None

        def exactly(size: int) -> bytes | None:
            parts, missing = [], size
            while missing:
                part = pipe.read(missing)
                if not part:
                    return None
                parts.append(part)
                missing -= len(part)
            return b"".join(parts)

        while (header := exactly(_HEADER.size)) is not None:
            moment, size = _HEADER.unpack(header)
            data = exactly(size)
            if data is None:
                break
            self._chunks.put((moment, data))
        self._chunks.put(None)

    def _read(self, timeout: float) -> bool:
        """Take what was read (waiting at most ``timeout``); False when the program has gone."""
        if self._gone:
            return False
        try:
            chunk = self._chunks.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return True
        if chunk is None:
            self._gone = True
            return False
        moment, data = chunk
        joined = self._tail + data
        self._tail = joined[-16:]
        if self.on_read is not None:
            self.on_read(moment)
        if SYNC_END in joined:
            self.synced = True
        # feed up to each frame end, and look at the screen there
        start = 0
        while True:
            end = data.find(SYNC_END, start)
            if end < 0:
                break
            self.stream.feed(data[start : end + len(SYNC_END)])
            start = end + len(SYNC_END)
            self._frame(moment)
        if start < len(data):
            self.stream.feed(data[start:])
            if not self.synced:  # a terminal without frames: each read is one
                self._frame(moment)
        return True

    def _frame(self, moment: float) -> None:
        self.frames += 1
        self.last = Frame(moment, list(self.screen.display))
        if self.on_frame is not None:
            self.on_frame(self.last)

    def wait(self, check: Check, timeout: float, *, tick: Callable[[], None] | None = None) -> Frame | None:
        """The first frame from now on (or the current one) for which ``check`` holds; ``tick`` is
        called every 2 ms meanwhile (to poll /proc)."""
        if self.last.lines and check(self.last):
            return self.last
        deadline = time.perf_counter() + timeout
        seen = self.frames
        step = 0.002 if tick is not None else 0.05
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return None
            if tick is not None:
                tick()
            if not self._read(min(remaining, step)):
                return None
            if self.frames != seen:
                seen = self.frames
                if check(self.last):
                    return self.last

    def drain(self, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while (remaining := deadline - time.perf_counter()) > 0:
            if not self._read(min(remaining, 0.05)):
                return

    # ------------------------------------------------------------------ input

    def press(self, key: str) -> float:
        """Type ``key``; the moment it was written."""
        os.write(self.fd, key.encode())
        return time.perf_counter()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self.fd, b"\x11")  # ctrl+q
        deadline = time.perf_counter() + 3
        while time.perf_counter() < deadline:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
            if not self._read(0.05):
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(self.pid, 0)
                break
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
        with contextlib.suppress(OSError):
            os.close(self.fd)
        if self._reader.poll() is None:
            self._reader.kill()
        self._reader.wait()
        if self._reader.stdout is not None:
            self._reader.stdout.close()
