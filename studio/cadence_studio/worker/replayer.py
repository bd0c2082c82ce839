"""Replay a Cadence workflow history against the current code: ``python -m cadence_studio.worker.replayer``.

Runs in a process of its own (``cadence-studio replay`` starts it): it imports TARGET's module to build
the plans of its cadences, registered on the history's task queue as a worker registers them, and
replays the history with ``temporalio.worker.Replayer``. No note runs: replaying a workflow only
checks that the current code schedules what the history did. Prints one JSON object: ``{"ok": bool,
"message", "ran", "runs"}`` (``ran``/``runs``: the node the history ran and the one the code runs
there, when they differ).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Any

from cadence import Cadence

from ..errors import StudioError
from .loader import find_cadences, import_target, parse_target

__all__ = ["main", "replay"]

# "[TMPRL1100] Nondeterminism error: Activity type of scheduled event 'a' does not match activity type
# of activity command 'b'"
_MISMATCH = re.compile(
    r"scheduled event '([^']+)' does not match activity type of activity command '([^']+)'"
)


def _cadence(target: str, cwd: Path, name: str) -> tuple[Cadence[Any] | None, list[str]]:
    """The cadence named ``name`` in ``target``: a module-level one, else one a factory builds with its
    defaults (its notes do not run); and the names found, for the message when there is none."""
    parsed = parse_target(target)
    module = import_target(parsed, cwd=cwd)
    found = find_cadences(module, parsed.name, label=parsed.spec)
    seen: list[str] = []
    for item in sorted(found, key=lambda f: f.kind != "cadence"):
        made = item.obj
        if item.kind == "factory":
            try:
                made = item.obj()
            except Exception:
                continue
        if isinstance(made, Cadence):
            if made.name == name:
                return made, seen
            seen.append(made.name)
    return None, seen


def _order(plan: dict[str, Any], taken: set[str]) -> list[str]:
    """The activities the plan schedules, in order (notes and split conditions), ``taken`` branches only."""
    out: list[str] = []
    for m in plan.get("measures", ()):
        kind = m["kind"]
        if kind == "note":
            out.append(m["id"])
        elif kind in ("sequence", "sync"):
            out.extend(n["id"] for n in m["notes"])
        elif kind == "split":
            out.append(m["id"])
            for label in ("true", "false"):
                if f"{m['id']}/{label}" in taken:
                    out.extend(n["id"] for n in m[label])
    return out


def _first_difference(ran: list[str], plan: dict[str, Any]) -> tuple[str, str] | None:
    taken = {node.rsplit("/", 1)[0] for node in ran}
    now = _order(plan, taken)
    for old, new in zip(ran, now, strict=False):
        if old != new:
            return old, new
    if len(ran) > len(now):
        return ran[len(now)], "nothing"
    return None


async def replay(text: str, target: str, cwd: Path) -> dict[str, Any]:
    """Replay the history ``text`` (JSON) against ``target``'s current code."""
    from temporalio.client import WorkflowHistory
    from temporalio.worker import Replayer

    from cadence.integrations.temporal import CadenceWorkflow, plan, register, sandbox_runner
    from cadence.integrations.temporal.history import read_history

    run = read_history(text)
    queue = run.task_queue or "cadence"
    chosen, seen = _cadence(target, cwd, run.cadence)
    if chosen is None:
        names = ", ".join(map(repr, dict.fromkeys(seen))) or "none"
        return {
            "ok": False,
            "load_error": True,
            "message": f"{target} has no cadence named {run.cadence!r} (found: {names}); "
            "pass the module that defines it",
        }
    register(chosen, task_queue=queue)  # and its children, as a worker registers them
    current = plan(chosen)
    ran = [s.node for s in run.steps if getattr(s, "role", None) in ("note", "condition")]
    difference = _first_difference(ran, current)
    replayer = Replayer(workflows=[CadenceWorkflow], workflow_runner=sandbox_runner())
    history = WorkflowHistory.from_json(run.workflow_id or "workflow", text)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    failure = result.replay_failure
    if failure is None and difference is None:
        return {"ok": True, "message": "the history replays cleanly against the current code"}
    detail = str(failure) if failure is not None else ""
    match = _MISMATCH.search(detail)
    if match is not None:
        difference = (match.group(1), match.group(2))
    if difference is not None:
        message = f"the history ran {difference[0]} where the current code runs {difference[1]}"
        return {
            "ok": False,
            "message": message,
            "ran": difference[0],
            "runs": difference[1],
            "detail": detail,
        }
    if run.fingerprint and run.fingerprint != current["fingerprint"]:
        detail = f"the cadence's structure changed since the run ({detail})"
    return {"ok": False, "message": detail or "the history does not replay", "detail": detail}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cadence_studio.worker.replayer")
    parser.add_argument("history", type=Path)
    parser.add_argument("target")
    parser.add_argument("--cwd", type=Path, default=Path("."))
    args = parser.parse_args(argv)
    try:
        outcome = asyncio.run(replay(args.history.read_text(encoding="utf-8"), args.target, args.cwd))
    except StudioError as error:
        outcome = {"ok": False, "message": str(error), "load_error": True}
    print(json.dumps(outcome), flush=True)
    return 0 if outcome["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
