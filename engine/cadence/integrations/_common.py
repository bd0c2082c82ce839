"""What the web integrations share, free of any framework: the score as JSON, errors as status + body,
custom error handlers along the error chain, and the Prometheus exposition.

``cadence.integrations.fastapi`` and ``cadence.integrations.flask`` build their responses from these;
nothing here imports a framework (``prometheus_client`` is imported only by :func:`metrics_exposition`).
"""

from __future__ import annotations

import builtins
import dataclasses
import math
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ..cadence import Cadence
from ..checkpoint import CheckpointStore
from ..exceptions import CadenceError, CircuitOpenError, NoteError, RetryExhaustedError
from ..exceptions import TimeoutError as CadenceTimeoutError
from ..score import Atomic, AtomicDict, AtomicList

__all__ = [
    "ErrorReply",
    "Fallback",
    "RequestRuns",
    "classify_error",
    "error_chain",
    "find_handler",
    "internal_error",
    "invalid_score",
    "is_invalid_score",
    "metrics_exposition",
    "prometheus_registry",
    "run_options",
    "score_to_jsonable",
]

H = TypeVar("H")

_MAX_CHAIN = 16

#: ``fallback(value)``: a JSON-ready form of a value the converter does not know (raise if none).
Fallback = Callable[[Any], Any]


# ---------------------------------------------------------------------------- serialisation


def score_to_jsonable(value: Any, fallback: Fallback | None = None) -> Any:
    """A JSON-ready copy of ``value``: dataclasses field by field, ``Atomic`` types by their contents.

    Mappings become objects (keys as strings), lists, tuples and sets become arrays, non-finite floats
    ``null``. Anything else goes through ``fallback`` (the framework's own encoder), and if there is
    none or it fails, ``repr``. Cycles are cut (the repeated object becomes its ``repr``).
    """
    return _jsonable(value, set(), fallback)


def _jsonable(value: Any, active: set[int], fallback: Fallback | None) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if id(value) in active:
        return repr(value)
    active.add(id(value))
    try:
        return _container(value, active, fallback)
    finally:
        active.discard(id(value))


def _container(value: Any, active: set[int], fallback: Fallback | None) -> Any:
    if isinstance(value, Atomic):
        return _jsonable(value.get(), active, fallback)
    if isinstance(value, AtomicList):
        return [_jsonable(v, active, fallback) for v in value.get_all()]
    if isinstance(value, AtomicDict):
        return {str(k): _jsonable(v, active, fallback) for k, v in value.get_all().items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _jsonable(getattr(value, f.name, None), active, fallback)
            for f in dataclasses.fields(value)
        }
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, active, fallback) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v, active, fallback) for v in value]
    if fallback is not None:
        try:
            return fallback(value)
        except Exception:
            pass
    return repr(value)


# ---------------------------------------------------------------------------- errors


def error_chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the errors it wraps: ``NoteError.original_error``, ``RetryExhaustedError.last_error``."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < _MAX_CHAIN and all(current is not e for e in chain):
        chain.append(current)
        if isinstance(current, NoteError):
            current = current.original_error
        elif isinstance(current, RetryExhaustedError):
            current = current.last_error
        else:
            current = None
    return chain


@dataclasses.dataclass(frozen=True)
class ErrorReply:
    """The HTTP answer to a failed request: status, stable code, failing note, headers, and two texts.

    ``summary`` says what failed in the engine's own words (the note and what happened to it) and is
    what a client sees by default; ``message`` carries the error's own text (which may hold data or
    secrets) and is sent only when the app opts in with ``expose_errors=True``.
    """

    status: int
    code: str
    message: str
    note: str | None = None
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    summary: str = ""

    def as_body(self, *, expose_errors: bool = False) -> dict[str, Any]:
        """``{"error": {"code": ..., "message": ..., "note": ...}}``; the message is the summary
        unless ``expose_errors``."""
        message = self.message if expose_errors or not self.summary else self.summary
        return {"error": {"code": self.code, "message": message, "note": self.note}}

    @property
    def body(self) -> dict[str, Any]:
        """The body a client sees by default (no exception text)."""
        return self.as_body()


def _what(note: str | None, happened: str, otherwise: str) -> str:
    return f"note {note!r} {happened}" if note else otherwise


def classify_error(exc: BaseException) -> ErrorReply:
    """The answer for a failed run; never a traceback, never the ``repr`` of a foreign error.

    A timeout anywhere in the chain is 504 ``TIMEOUT``; an open circuit 503 ``CIRCUIT_OPEN`` with
    ``Retry-After``; anything else 500 with the code of the innermost engine error (``NOTE_ERROR``,
    ``RETRY_EXHAUSTED``, ...) or ``INTERNAL_ERROR`` when no engine error is involved.
    """
    chain = error_chain(exc)
    note: str | None = None
    for err in chain:
        if isinstance(err, NoteError | CadenceTimeoutError) and err.note_name:
            note = err.note_name
            break
    timeout = next((e for e in chain if isinstance(e, builtins.TimeoutError)), None)
    circuit = next((e for e in chain if isinstance(e, CircuitOpenError)), None)
    if timeout is not None:
        message = timeout.message if isinstance(timeout, CadenceTimeoutError) else "the run timed out"
        summary = _what(note, "timed out", "the run timed out")
        return ErrorReply(504, "TIMEOUT", message, note, summary=summary)
    if circuit is not None:
        headers = {"Retry-After": str(max(0, math.ceil(circuit.retry_after)))}
        summary = _what(note, "was not run: its circuit is open", "a circuit is open") + "; retry later"
        return ErrorReply(503, circuit.code, circuit.message, note, headers, summary=summary)
    cadence_errors = [e for e in chain if isinstance(e, CadenceError)]
    if cadence_errors:
        innermost = cadence_errors[-1]
        summary = _what(note, "failed", "the cadence failed")
        return ErrorReply(500, innermost.code, innermost.message, note, summary=summary)
    return internal_error(note)


def internal_error(note: str | None = None) -> ErrorReply:
    """500 ``INTERNAL_ERROR`` with a message that says nothing about the cause."""
    return ErrorReply(500, "INTERNAL_ERROR", "internal server error", note)


def invalid_score(view: Callable[..., Any], cadence: Cadence[Any]) -> ErrorReply:
    """500 ``INVALID_SCORE``: the view returned ``None`` or the cadence's construction score."""
    message = (
        f"the view {getattr(view, '__qualname__', view)!r} of cadence {cadence.name!r} "
        "must return a fresh score for each request"
    )
    return ErrorReply(500, "INVALID_SCORE", message, summary="the view did not return a fresh score")


def is_invalid_score(score: Any, cadence: Cadence[Any]) -> bool:
    """Whether a view's result must not be run: ``None`` or the cadence's construction score."""
    return score is None or score is cadence.get_score()


def find_handler(
    handlers: Mapping[type[BaseException], H], exc: BaseException
) -> tuple[H, BaseException] | None:
    """The handler for ``exc`` or for the first error it wraps that has one, with that error.

    For each error of the chain (see :func:`error_chain`) the most specific registered type of its
    MRO wins.
    """
    if not handlers:
        return None
    for err in error_chain(exc):
        for cls in type(err).__mro__:
            handler = handlers.get(cls)
            if handler is not None:
                return handler, err
    return None


# ---------------------------------------------------------------------------- metrics


def prometheus_registry(registry: Any = None) -> Any:
    """``registry``, or ``prometheus_client.REGISTRY``; an ImportError naming the extra without it."""
    try:
        import prometheus_client
    except ImportError as error:
        msg = f"a /metrics route needs prometheus_client: pip install 'cadence-studio[prometheus]' ({error})"
        raise ImportError(msg) from error
    return prometheus_client.REGISTRY if registry is None else registry


def metrics_exposition(registry: Any = None) -> tuple[bytes, str]:
    """The Prometheus text exposition of ``registry`` (default: the global one) and its content type."""
    registry = prometheus_registry(registry)
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return generate_latest(registry), CONTENT_TYPE_LATEST


def new_run_id() -> str:
    """A run id for a request's run: ``req-`` and 32 hex digits."""
    return f"req-{uuid.uuid4().hex}"


@dataclasses.dataclass
class RequestRuns:
    """What the cadence runs of one request leave for its response headers.

    Made per request by ``CadenceMiddleware`` (FastAPI) or ``CadenceExtension`` (Flask); the routes
    take their run ids from it and add the time each run took.
    """

    run_id: str = dataclasses.field(default_factory=new_run_id)
    runs: int = 0
    seconds: float = 0.0

    def next_run_id(self) -> str:
        """The id of the request's next run: the request's id, then ``<id>.2``, ``<id>.3`` ..."""
        self.runs += 1
        return self.run_id if self.runs == 1 else f"{self.run_id}.{self.runs}"

    def headers(self, run_id_header: str | None, timing_header: str | None) -> dict[str, str]:
        """The response headers (none when no cadence ran): the run id, the seconds spent running
        and ``Server-Timing: cadence;dur=<ms>`` with the timing."""
        if not self.runs:
            return {}
        out: dict[str, str] = {}
        if run_id_header:
            out[run_id_header] = self.run_id
        if timing_header:
            out[timing_header] = f"{self.seconds:.6f}"
            out["Server-Timing"] = f"cadence;dur={self.seconds * 1000:.3f}"
        return out


def run_options(checkpoint: CheckpointStore | None, runs: RequestRuns | None = None) -> dict[str, Any]:
    """The ``run()`` keywords of one request: its own run id (the request's, when a middleware or
    extension gave it one), and the store when there is one."""
    if runs is not None:
        options: dict[str, Any] = {"run_id": runs.next_run_id()}
        if checkpoint is not None:
            options["checkpoint"] = checkpoint
        return options
    if checkpoint is None:
        return {}
    return {"checkpoint": checkpoint, "run_id": new_run_id()}
