"""The wire format between the studio's UI and its worker: one JSON object per line.

This module alone defines it. Commands go from the UI to the worker's stdin, messages come back
on the worker's protocol pipe. Both are pydantic models told apart by their ``type`` field.

A model's validator and serializer are built when it is first used (``defer_build``), not when this
module is imported: building all of them took a quarter of the studio's start-up, and a start-up uses
three. A line is decoded by the model its ``type`` names; :func:`prepare` builds them all (the worker
calls it once it has sent its catalog, while nobody waits for it), :func:`build_next` one at a time
(the studio's UI, while idle: a key pressed meanwhile waits for one model, 2 ms at most).
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .watches import Watch, WatchHit

__all__ = [
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
    "PluginStatus",
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
    "SetWatches",
    "Shutdown",
    "StartPrepared",
    "Step",
    "StepOver",
    "Stop",
    "WatchFailed",
    "WorkerError",
    "WorkerExited",
    "build_next",
    "decode_command",
    "decode_message",
    "encode",
    "prepare",
]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# ---------------------------------------------------------------------------- commands (UI → worker)


class Describe(_Wire):
    """List the module's cadences and factories again."""

    type: Literal["describe"] = "describe"


class Durable(_Wire):
    """Checkpoint a run into the SQLite file ``store`` under ``run_id``.

    ``resume``: continue that (unfinished) run from its checkpoints. ``start_at`` (a top-level measure's
    node id) with ``base`` (another run's checkpoint id): re-run from that measure, on the score ``base``
    had just before it (or on the run's ``score``, when one is given).
    """

    store: str
    run_id: str
    resume: bool = False
    start_at: str | None = None
    base: str | None = None


class Run(_Wire):
    """Start (or restart) a run of ``target`` (a cadence or a factory called with ``args``)."""

    type: Literal["run"] = "run"
    target: str
    args: dict[str, Any] = Field(default_factory=dict)
    score: dict[str, Any] | None = None
    breakpoints: list[str] = Field(default_factory=list)
    watches: list[Watch] = Field(default_factory=list)  # data breakpoints (see :mod:`.watches`)
    pause_at_start: bool = False
    durable: Durable | None = None
    #: an ``async def`` note that holds the event loop this long (ms) or longer is flagged (0: never)
    stall_ms: float = Field(default=50.0, ge=0)


class Step(_Wire):
    """Let the oldest held waypoint go; pause at the next one."""

    type: Literal["step"] = "step"


class StepOver(_Wire):
    """Like step, but a held fork, branch or child runs whole."""

    type: Literal["step_over"] = "step_over"


class Continue(_Wire):
    """Run to the next breakpoint or the end."""

    type: Literal["continue"] = "continue"


class SetBreakpoints(_Wire):
    """Replace the breakpoints (node ids) of the current and later runs."""

    type: Literal["breakpoints"] = "breakpoints"
    ids: list[str]


class SetWatches(_Wire):
    """Replace the data breakpoints of the current and later runs (a bad one is a ``worker_error``)."""

    type: Literal["watches"] = "watches"
    watches: list[Watch]


class Stop(_Wire):
    """Cancel the current run."""

    type: Literal["stop"] = "stop"


class Expand(_Wire):
    """More of the live score (the paused one, or the last run's result) at ``path``, from ``offset``."""

    type: Literal["expand"] = "expand"
    path: list[str]
    offset: int = 0


class CheckScore(_Wire):
    """Validate an initial score for ``target`` against its score type, without running."""

    type: Literal["check_score"] = "check_score"
    target: str
    score: dict[str, Any]


class PlanRerun(_Wire):
    """What a re-run of ``target`` from ``node_id`` of the checkpointed run ``base`` would do (no run)."""

    type: Literal["plan_rerun"] = "plan_rerun"
    target: str
    args: dict[str, Any] = Field(default_factory=dict)
    store: str
    base: str
    node_id: str


class PrepareStart(_Wire):
    """What a run of ``target`` on another engine (Temporal) starts from, built as :class:`Run` builds it
    (``args`` for a factory, ``score`` as the input) but not run: answered by :class:`StartPrepared`."""

    type: Literal["prepare_start"] = "prepare_start"
    target: str
    args: dict[str, Any] = Field(default_factory=dict)
    score: dict[str, Any] | None = None


class RenderScore(_Wire):
    """Restore ``score`` (``cadence.serialize_score`` data) to ``target``'s score type and draw it:
    answered by :class:`ScoreRendered`."""

    type: Literal["render_score"] = "render_score"
    target: str
    args: dict[str, Any] = Field(default_factory=dict)
    score: dict[str, Any]


class Shutdown(_Wire):
    """End the worker."""

    type: Literal["shutdown"] = "shutdown"


Command = Annotated[
    Describe
    | Run
    | Step
    | StepOver
    | Continue
    | SetBreakpoints
    | SetWatches
    | Stop
    | Expand
    | CheckScore
    | PlanRerun
    | PrepareStart
    | RenderScore
    | Shutdown,
    Field(discriminator="type"),
]


# ---------------------------------------------------------------------------- messages (worker → UI)


class ErrorInfo(_Wire):
    """An exception, shown to the user: type, message, traceback and where it happened."""

    type: str
    message: str
    traceback: str = ""
    code: str | None = None
    file: str | None = None
    line: int | None = None


class Ready(_Wire):
    """The worker imported the target module."""

    type: Literal["ready"] = "ready"
    target: str
    module: str
    file: str | None
    pid: int


class LoadFailed(_Wire):
    """The target could not be loaded (missing, syntax error, import error, no cadence)."""

    type: Literal["load_failed"] = "load_failed"
    target: str
    error: ErrorInfo
    hint: str = ""


class Param(_Wire):
    """A parameter of a cadence factory."""

    name: str
    annotation: str | None = None
    default: Any = None  # the default as JSON data; None when it has none (or it is no JSON data)
    required: bool = True
    #: the default as Python spells it, for defaults that are no JSON data (``OrderScore()``)
    display: str | None = None

    def shown_default(self) -> str:
        """How its default reads in a signature: ``'EU'``, ``3``, ``OrderScore()``."""
        return self.display if self.display is not None else repr(self.default)


class CadenceEntry(_Wire):
    """A cadence the module offers: a ``Cadence`` object or a factory function returning one."""

    name: str
    kind: Literal["cadence", "factory"]
    doc: str | None = None
    params: list[Param] = Field(default_factory=list)
    graph: dict[str, Any] | None = None  # describe(); None for a factory that needs arguments
    score_type: str | None = None
    score: Any = None  # the construction score as a value tree
    score_json: Any = None  # the construction score as plain JSON data (to edit the input)
    score_kept: dict[str, str] = Field(default_factory=dict)  # fields JSON cannot give: name → type
    score_schema: dict[str, Any] | None = None
    error: ErrorInfo | None = None  # a factory that failed when called with its defaults


class PluginStatus(_Wire):
    """An installed plugin (entry point of ``cadence.cadences``) as the ``@`` targets loaded it."""

    name: str  # the entry-point name
    value: str  # ``module`` or ``module:attr``
    package: str | None = None
    version: str | None = None
    kind: Literal["module", "cadence", "factory"] | None = None  # None: not loaded (disabled, broken)
    cadences: list[str] = Field(default_factory=list)  # the catalog entries it gave
    disabled: bool = False  # by the project's [tool.cadence] disabled list: not imported
    error: ErrorInfo | None = None  # why it could not be loaded (the others still are)


class Catalog(_Wire):
    """Every cadence of the module (for a plugin target: of the plugins, and how each loaded)."""

    type: Literal["catalog"] = "catalog"
    entries: list[CadenceEntry]
    plugins: list[PluginStatus] | None = None


class EventMessage(_Wire):
    """One engine event (``Event.as_dict()``) with the score it concerns, as a value tree.

    ``clock``: when it happened on the run's own time (seconds from the run's start, time the controller
    held the whole run left out), which places it on the timeline. The worker adds ``stalled`` events of
    its own (``node_id``, ``blocked`` seconds): a note that held the event loop.
    """

    type: Literal["event"] = "event"
    run: int
    event: dict[str, Any]
    score: Any = None
    snapshots: list[Any] | None = None
    clock: float | None = None


class Paused(_Wire):
    """The run is held at a checkpoint."""

    type: Literal["paused"] = "paused"
    run: int
    kind: str
    node_id: str
    name: str
    held: list[str] = Field(default_factory=list)
    score: Any = None
    watch: WatchHit | None = None  # held right after a note (kind "after") by a data breakpoint
    also: list[WatchHit] = Field(default_factory=list)  # more watches hit by that note


class RunBegan(_Wire):
    """A run started: which cadence, its graph and its input (what run history keeps with it)."""

    type: Literal["run_began"] = "run_began"
    run: int
    target: str
    graph: dict[str, Any]
    args: dict[str, Any] = Field(default_factory=dict)
    score: Any = None  # the input score as plain JSON data, when one was given
    checkpoint: str | None = None  # the run's id in the project's checkpoint store, when checkpointed
    #: a re-run from a note: the top-level measures taken from its base run, not run again (a resume
    #: says what it kept in the engine's ``resumed`` event instead)
    reused: list[str] = Field(default_factory=list)


class RunEnded(_Wire):
    """A run ended: done, failed, skipped, interrupted, cancelled or stopped."""

    type: Literal["run_ended"] = "run_ended"
    run: int
    status: str
    score: Any = None
    error: ErrorInfo | None = None
    duration: float = 0.0


class Expanded(_Wire):
    """The answer to :class:`Expand`: the value tree at ``path`` with children from ``offset``."""

    type: Literal["expanded"] = "expanded"
    path: list[str]
    offset: int
    tree: Any = None
    error: str | None = None


class ScoreChecked(_Wire):
    """The answer to :class:`CheckScore`: ``error`` names the bad fields, or is None."""

    type: Literal["score_checked"] = "score_checked"
    target: str
    error: str | None = None
    fields: list[str] = Field(default_factory=list)


class RerunPlan(_Wire):
    """The answer to :class:`PlanRerun`: the top-level measure the run starts at (``start_at``: the
    group or child holding ``node_id``, or the note itself), the measures reused from the base run and
    those that will run, and the score as it was before ``start_at`` (plain JSON, to edit); or ``error``."""

    type: Literal["rerun_plan"] = "rerun_plan"
    node_id: str
    start_at: str | None = None
    reused: list[str] = Field(default_factory=list)
    will_run: list[str] = Field(default_factory=list)
    changed_notes: list[str] = Field(default_factory=list)
    score_json: Any = None
    error: str | None = None


class StartPrepared(_Wire):
    """The answer to :class:`PrepareStart`: the cadence's name, its initial score serialised as the
    checkpoints serialise it, its plan's fingerprint and structure, its score type (``module:Qualname``)
    and graph; or ``error`` (``refused``: bad input, else the user's code failed)."""

    type: Literal["start_prepared"] = "start_prepared"
    target: str
    cadence: str = ""
    score: dict[str, Any] = Field(default_factory=dict)
    fingerprint: str = ""
    structure: list[list[str]] = Field(default_factory=list)
    score_type: str = ""
    graph: dict[str, Any] = Field(default_factory=dict)
    error: ErrorInfo | None = None
    refused: bool = False


class ScoreRendered(_Wire):
    """The answer to :class:`RenderScore`: the score as a value tree, or ``error``."""

    type: Literal["score_rendered"] = "score_rendered"
    tree: Any = None
    error: str | None = None


class Log(_Wire):
    """Text the user's code printed (its stdout and stderr go here, never into the protocol)."""

    type: Literal["log"] = "log"
    stream: str
    text: str


class WatchFailed(_Wire):
    """A watch expression raised when evaluated after ``node_id`` (said once a run; the run goes on)."""

    type: Literal["watch_failed"] = "watch_failed"
    run: int
    watch: Watch
    node_id: str
    error: str


class WorkerExited(_Wire):
    """Made by the client, never sent: the worker process ended (``returncode``, last stderr)."""

    type: Literal["worker_exited"] = "worker_exited"
    returncode: int | None
    stderr: str = ""


class WorkerError(_Wire):
    """The worker could not do what it was asked (bad command, unknown cadence, bad arguments)."""

    type: Literal["worker_error"] = "worker_error"
    message: str
    error: ErrorInfo | None = None


Message = Annotated[
    Ready
    | LoadFailed
    | Catalog
    | EventMessage
    | Paused
    | RunBegan
    | RunEnded
    | Expanded
    | ScoreChecked
    | RerunPlan
    | StartPrepared
    | ScoreRendered
    | Log
    | WatchFailed
    | WorkerError
    | WorkerExited,
    Field(discriminator="type"),
]

_TYPE = re.compile(rb'\{\s*"type"\s*:\s*"([a-z_]+)"')  # how every line starts (``type`` comes first)


@functools.cache
def _models(union: Any) -> dict[bytes, type[_Wire]]:
    """The models of a discriminated union by their ``type``."""
    models: tuple[type[_Wire], ...] = get_args(get_args(union)[0])
    return {model.model_fields["type"].default.encode(): model for model in models}


@functools.cache
def _adapter(union: Any) -> TypeAdapter[Any]:
    return TypeAdapter(union)


def _decode(union: Any, line: str | bytes) -> Any:
    data = line.encode("utf-8") if isinstance(line, str) else line
    match = _TYPE.match(data)
    model = _models(union).get(match.group(1)) if match else None
    if model is not None:
        return model.model_validate_json(data)
    return _adapter(union).validate_json(data)  # no known type: the union says what is wrong


def encode(item: BaseModel) -> bytes:
    """One line of the protocol."""
    return item.model_dump_json().encode("utf-8") + b"\n"


def decode_command(line: str | bytes) -> Command:
    """Parse a command line (raises ``pydantic.ValidationError`` on a bad one)."""
    result: Command = _decode(Command, line)
    return result


def decode_message(line: str | bytes) -> Message:
    """Parse a message line (raises ``pydantic.ValidationError`` on a bad one)."""
    result: Message = _decode(Message, line)
    return result


def prepare() -> None:
    """Build every command's and message's validator and serializer now (each is otherwise built when
    first used), so that the first step of a run does not wait for them."""
    while build_next():
        pass


#: What a run sends and receives first: built first by :func:`build_next`.
_RUN_FIRST = (
    b"step",
    b"run",
    b"run_began",
    b"event",
    b"paused",
    b"run_ended",
    b"continue",
    b"step_over",
    b"stop",
)


def build_next() -> bool:
    """Build the validator and serializer of one model that has none yet, a run's first; False when
    every model has them. Call it again while it says True, when idle."""
    commands, messages = _models(Command), _models(Message)
    order = [*(m for t in _RUN_FIRST for m in (commands.get(t), messages.get(t)) if m is not None)]
    for model in (*order, *commands.values(), *messages.values()):
        if not model.__pydantic_complete__:
            model.model_rebuild()
            return True
    return False
