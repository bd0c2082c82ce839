"""What the studio's two processes share: the wire format, and how its messages are read.

``from cadence_studio import protocol as p`` gives the messages (:mod:`.messages`) and how a worker is
started (:mod:`.process`). Beside them: the TARGET syntax (:mod:`.target`), the paths and diffs of the
value trees the worker sends (:mod:`.value_trees`), and the state a stream of messages builds
(:mod:`.session`), which the UI, the run history's replay and the headless commands all read.

Imports the engine and pydantic, never the UI, the worker or Textual.
"""

from __future__ import annotations

from .messages import (
    CadenceEntry,
    Catalog,
    CheckScore,
    Command,
    Continue,
    Describe,
    Durable,
    ErrorInfo,
    EventMessage,
    Expand,
    Expanded,
    LoadFailed,
    Log,
    Message,
    Param,
    Paused,
    PlanRerun,
    PrepareStart,
    Ready,
    RenderScore,
    RerunPlan,
    Run,
    RunBegan,
    RunEnded,
    ScoreChecked,
    ScoreRendered,
    SetBreakpoints,
    Shutdown,
    StartPrepared,
    Step,
    StepOver,
    Stop,
    WorkerError,
    WorkerExited,
    decode_command,
    decode_message,
    encode,
)
from .process import PARENT_ENV, WORKER_MODULE

__all__ = [
    "PARENT_ENV",
    "WORKER_MODULE",
    "CadenceEntry",
    "Catalog",
    "CheckScore",
    "Command",
    "Continue",
    "Describe",
    "Durable",
    "ErrorInfo",
    "EventMessage",
    "Expand",
    "Expanded",
    "LoadFailed",
    "Log",
    "Message",
    "Param",
    "Paused",
    "PlanRerun",
    "PrepareStart",
    "Ready",
    "RenderScore",
    "RerunPlan",
    "Run",
    "RunBegan",
    "RunEnded",
    "ScoreChecked",
    "ScoreRendered",
    "SetBreakpoints",
    "Shutdown",
    "StartPrepared",
    "Step",
    "StepOver",
    "Stop",
    "WorkerError",
    "WorkerExited",
    "decode_command",
    "decode_message",
    "encode",
]
