"""The real renderers the diagram tests check against: Graphviz ``dot`` and Mermaid in chromium.

A missing tool skips the test locally but fails it when ``CI=true``: CI must never pass by skipping.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NoReturn

import pytest

REPO = Path(__file__).resolve().parents[2]
MERMAID_TOOLS = REPO / ".tools" / "mermaid"
MERMAID_SCRIPT = Path(__file__).with_name("mermaid_render.mjs")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SVG = "{http://www.w3.org/2000/svg}"


def missing(reason: str) -> NoReturn:
    """Skip the test, or fail it under ``CI=true``."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: every tool the tests use must be installed)", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str, install: str) -> str:
    """The path of executable ``name``, or skip/fail naming how to install it."""
    path = shutil.which(name)
    if path is None:
        missing(f"{name!r} is not on PATH; install it with: {install}")
    return path


def run_dot(source: str, output_format: str = "svg") -> bytes:
    """Run the real ``dot``; any exit code but 0 or any stderr output (a warning) fails the test."""
    dot = require_tool("dot", "apt-get install graphviz")
    done = subprocess.run(
        [dot, f"-T{output_format}"],
        input=source.encode("utf-8"),
        capture_output=True,
        timeout=60,
        check=False,
    )
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, f"dot rejected the diagram (exit {done.returncode}):\n{stderr}\n{source}"
    assert not stderr, f"dot warned about the diagram:\n{stderr}\n{source}"
    return done.stdout


def dot_labels(svg: bytes) -> dict[str, list[str]]:
    """Text lines of each node and cluster of a ``dot`` SVG, keyed by DOT name (``n3``, ``cluster_s2``)."""
    labels: dict[str, list[str]] = {}
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        if group.get("class") in ("node", "cluster"):
            title = group.find(f"{SVG}title")
            assert title is not None
            labels[title.text or ""] = [text.text or "" for text in group.iter(f"{SVG}text")]
    return labels


@dataclass(frozen=True, slots=True)
class MermaidRender:
    svg: str
    labels: list[str]  # text of every node, edge and subgraph label; line breaks as "\n"


class MermaidRenderer:
    """One chromium, started on first use, renders every Mermaid text of the test session."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None
        self._ids = itertools.count()

    def _start(self) -> subprocess.Popen[str]:
        node = require_tool("node", "apt-get install nodejs npm")
        if not Path(CHROMIUM).exists():
            missing(f"chromium is not at {CHROMIUM}; install it with: apt-get install chromium")
        if not (MERMAID_TOOLS / "node_modules" / "mermaid").is_dir():
            missing(f"mermaid is not installed in {MERMAID_TOOLS}; run: make .tools/mermaid/.installed")
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._process = subprocess.Popen(
            [node, str(MERMAID_SCRIPT), "--serve"],
            cwd=MERMAID_TOOLS,
            env={**os.environ, "MERMAID_TOOLS": str(MERMAID_TOOLS), "CHROMIUM": CHROMIUM},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
        )
        self._read()  # {"ready": true}
        return self._process

    def _read(self) -> dict[str, object]:
        assert self._process is not None
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            assert self._stderr is not None
            self._stderr.seek(0)
            pytest.fail(f"the Mermaid renderer stopped:\n{self._stderr.read()}", pytrace=False)
        answer: dict[str, object] = json.loads(line)
        return answer

    def render(self, text: str) -> MermaidRender:
        """Parse and lay out ``text`` with the real Mermaid; a rejected diagram fails the test."""
        process = self._process or self._start()
        assert process.stdin is not None
        request_id = next(self._ids)
        process.stdin.write(json.dumps({"id": request_id, "text": text}) + "\n")
        process.stdin.flush()
        answer = self._read()
        assert answer["id"] == request_id
        numbered = "\n".join(f"{number:3} {line}" for number, line in enumerate(text.splitlines(), 1))
        assert answer["ok"], f"Mermaid rejected the diagram: {answer.get('error')}\n{numbered}"
        labels = answer["labels"]
        assert isinstance(labels, list)
        return MermaidRender(str(answer["svg"]), [str(label) for label in labels])

    def close(self) -> None:
        if self._process is not None:
            assert self._process.stdin is not None
            assert self._process.stdout is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
