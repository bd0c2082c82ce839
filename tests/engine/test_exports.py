"""The public API: a sorted, complete ``__all__`` and the names the spec promises.

Every public module's ``__all__`` is checked against the explicit lists below (as httpx does), so a name
can't vanish or leak by accident: changing the API means changing this file too.
"""

from __future__ import annotations

import importlib
import pkgutil
import types
from typing import TypeVar

import pytest

import cadence

SPEC_NAMES = {
    "Cadence", "Score", "ImmutableScore", "Atomic", "AtomicList", "AtomicDict", "Ok", "Err", "Result",
    "note", "Note", "retry", "timeout", "fallback", "circuit_breaker", "CircuitBreaker", "CircuitState",
    "CircuitOpenError", "RetryExhaustedError", "CadenceHooks", "LoggingHooks", "TimingHooks",
    "MetricsHooks", "TracingHooks", "DebugHooks", "HooksManager", "console_reporter", "json_reporter",
    "MergeStrategy", "merge_snapshots", "CadenceError", "NoteError", "ParallelNoteError", "MergeConflict",
    "Skip", "TimeoutError", "to_mermaid", "to_dot", "render_svg", "save_diagram", "print_cadence",
    "Context", "ImmutableContext", "beat", "BeatError",
}  # fmt: skip


def test_all_is_sorted_and_every_name_exists() -> None:
    """`cadence.__all__` is sorted and each entry is an attribute of the package."""
    assert list(cadence.__all__) == sorted(cadence.__all__)
    assert [n for n in cadence.__all__ if not hasattr(cadence, n)] == []


def test_spec_names_are_exported() -> None:
    """Every name SPEC.md lists is importable from `cadence`."""
    assert SPEC_NAMES - set(cadence.__all__) == set()


def test_old_names_are_aliases() -> None:
    """The first draft's Context / ImmutableContext / beat / BeatError still work."""
    assert cadence.Context is cadence.Score
    assert cadence.ImmutableContext is cadence.ImmutableScore
    assert cadence.beat is cadence.note
    assert cadence.BeatError is cadence.NoteError


def test_public_submodules_import() -> None:
    """The submodules the spec names keep their names."""
    for name in (
        "score",
        "note",
        "exceptions",
        "hooks",
        "resilience",
        "reporters",
        "diagram",
        "result",
        "types",
    ):
        assert importlib.import_module(f"cadence.{name}").__name__ == f"cadence.{name}"
    assert callable(importlib.import_module("cadence.resilience").get_circuit)


def test_error_str_has_code() -> None:
    """`str()` of any engine error is "[CODE] message"; TimeoutError is also the builtin one."""
    assert str(cadence.CadenceError("boom", code="X")) == "[X] boom"
    assert str(cadence.Skip("no stock")) == "[SKIP] no stock"
    err = cadence.TimeoutError("slow", seconds=1.0)
    assert isinstance(err, TimeoutError)
    assert isinstance(err, cadence.CadenceError)
    assert issubclass(cadence.ParallelNoteError, cadence.NoteError)


# Each public module of the engine and exactly what it exports. Private machinery lives in `_`-modules.
EXPORTS: dict[str, list[str]] = {
    "cadence": [
        "Atomic", "AtomicDict", "AtomicList", "BeatError", "Cadence", "CadenceError", "CadenceHooks",
        "CheckpointError", "CheckpointStore", "CircuitBreaker", "CircuitOpenError", "CircuitState",
        "Context", "DebugHooks", "DefinitionError", "DiagramError", "Err", "Event", "HooksManager",
        "ImmutableContext", "ImmutableScore", "InMemoryCheckpointStore", "LoggingHooks", "MergeConflict",
        "MergeStrategy", "MetricsHooks", "Note", "NoteError", "Ok", "ParallelNoteError", "Result",
        "RetryExhaustedError", "RunRecorder", "SQLiteCheckpointStore", "Score", "SerializationError",
        "Skip", "Snapshot", "StepController", "TRANSIENT", "TimeoutError", "TimingHooks", "TracingHooks",
        "Waypoint", "__version__", "beat", "circuit_breaker", "console_reporter", "err", "fallback",
        "get_circuit", "json_reporter", "merge_snapshots", "note", "ok", "pending", "print_cadence",
        "register_codec", "render_svg", "restore_score", "restore_value", "retry", "save_diagram",
        "serialize_score", "serialize_value", "timeout", "to_dot", "to_mermaid", "to_text", "unknown_fields",
    ],
    "cadence.cadence": ["Cadence", "Controller", "Listener"],
    "cadence.checkpoint": [
        "CheckpointError", "CheckpointStore", "CheckpointWrite", "InMemoryCheckpointStore",
        "RunInfo", "SQLiteCheckpointStore", "SavedRun", "pending",
    ],
    "cadence.diagram": [
        "DiagramCluster", "DiagramEdge", "DiagramError", "DiagramNode", "MeasureShape", "badges",
        "diagram_graph", "format_duration", "print_cadence", "render_svg", "run_marks",
        "save_diagram", "to_dot", "to_mermaid", "to_text",
    ],
    "cadence.events": [
        "BranchTaken", "ChildEntered", "ChildLeft", "CircuitStateChanged", "ErrorHandled", "Event",
        "FallbackUsed", "Forked", "Interrupted", "Merged", "NoteFinished", "NoteStarted", "Resumed",
        "RetryAttempt", "RunFinished", "RunStarted", "Skipped", "TimedOut", "describe_error",
    ],
    "cadence.exceptions": [
        "BeatError", "CadenceError", "CircuitOpenError", "DefinitionError", "DiagramError", "MergeConflict",
        "NoteError", "ParallelNoteError", "RetryExhaustedError", "Skip", "TimeoutError",
    ],
    "cadence.hooks": [
        "CadenceHooks", "DebugHooks", "HooksManager", "LoggingHooks", "MetricsHooks", "RunCounts",
        "TimingHooks", "TracingHooks", "after_note", "before_note", "current_run_id", "on_error",
    ],
    "cadence.integrations": [],
    "cadence.integrations.fastapi": [
        "CadenceDependency", "CadenceHTTPException", "CadenceMiddleware", "CadenceRouter", "ErrorHandler",
        "ResponseMapper", "cadence_endpoint", "error_response", "score_to_jsonable", "with_cadence",
    ],
    "cadence.integrations.flask": [
        "CadenceBlueprint", "CadenceExtension", "ErrorHandler", "ResponseMapper", "cadence_route",
        "error_response", "register_cadence", "score_to_jsonable", "with_cadence",
    ],
    "cadence.integrations.temporal": [
        "CadenceWorkflow", "DEFAULT_TASK_QUEUE", "WORKFLOW_TYPE", "WorkflowFailed", "create_worker", "plan",
        "register", "run", "sandbox_runner", "start", "workflow_input",
    ],
    "cadence.integrations.temporal.history": [
        "ChildRun", "HistoryFormatError", "MergeStep", "RunHistory", "Step", "WORKFLOW_TYPE", "read_history",
    ],
    "cadence.merge": ["MergeFn", "MergeStrategy", "Snapshot", "apply_fields", "merge_snapshots", "overlaps"],
    "cadence.note": ["Note", "Policy", "beat", "callable_name", "is_async_callable", "note"],
    "cadence.recorder": ["RunRecorder"],
    "cadence.reporters": [
        "ConsoleReporter", "OpenTelemetryReporter", "PrometheusReporter", "Reporter", "console_reporter",
        "json_reporter",
    ],
    "cadence.reporters.console": ["ConsoleReporter", "console_reporter", "json_reporter"],
    "cadence.reporters.opentelemetry": ["OpenTelemetryReporter"],
    "cadence.reporters.prometheus": ["PrometheusReporter"],
    "cadence.resilience": [
        "CircuitBreaker", "CircuitState", "circuit_breaker", "fallback", "get_circuit", "retry", "timeout",
    ],
    "cadence.result": ["Err", "Ok", "Result", "err", "ok"],
    "cadence.score": [
        "Atomic", "AtomicDict", "AtomicList", "Context", "ImmutableContext", "ImmutableScore", "Score",
        "merge_snapshots",
    ],
    "cadence.serialize": [
        "SerializationError", "TRANSIENT", "register_codec", "restore_score", "restore_value",
        "serialize_score", "serialize_value", "unknown_fields",
    ],
    "cadence.stepping": ["StepController", "Waypoint"],
    "cadence.types": [
        "AsyncCondition", "AsyncNote", "ChildMerge", "ChildScoreT", "Condition", "ConditionCallable",
        "Controller", "ErrorHandler", "Listener", "MergeFn", "NoteCallable", "NoteFn", "Reporter", "ScoreT",
        "SyncCondition", "SyncNote",
    ],
}  # fmt: skip

# Public-looking names a module defines on purpose without exporting them: reached through an
# exported name (MergeStrategy.smart_merge, the policy behind @retry), not imported by users.
DEFINED_NOT_EXPORTED = {
    "cadence.merge": {"fail_on_conflict", "last_write_wins", "smart_merge", "strategy_name"},
    "cadence.resilience": {"Fallback", "Retry", "Timeout"},
}
# What `from __future__ import annotations` and the lazy-diagram hook leave in the package namespace.
PACKAGE_NAMESPACE_NOISE = {"annotations", "Any", "TYPE_CHECKING"}
LAZY_IN_PACKAGE = {"print_cadence", "render_svg", "save_diagram", "to_dot", "to_mermaid", "to_text"}


def _public_engine_modules() -> set[str]:
    found = {"cadence"}
    for info in pkgutil.walk_packages(cadence.__path__, "cadence."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            found.add(info.name)
    return found


def test_every_public_module_has_an_export_list_here() -> None:
    """A module without a leading underscore is public: it must be listed in EXPORTS (or renamed `_x`)."""
    assert _public_engine_modules() == set(EXPORTS)


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_module_exports_exactly_the_listed_names(name: str) -> None:
    """`__all__` is exactly the list above, sorted, and every name in it resolves."""
    module = importlib.import_module(name)
    assert list(module.__all__) == EXPORTS[name]
    assert EXPORTS[name] == sorted(EXPORTS[name])
    assert [n for n in module.__all__ if not hasattr(module, n)] == []
    star: dict[str, object] = {}
    exec(f"from {name} import *", star)  # the star import a user would write
    assert set(star) - {"__builtins__"} == set(EXPORTS[name])


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_public_names_a_module_defines_are_exported(name: str) -> None:
    """A class or function a public module defines is in its `__all__` (or knowingly left out)."""
    module = importlib.import_module(name)
    defined = {
        key
        for key, value in vars(module).items()
        if not key.startswith("_")
        and not isinstance(value, types.ModuleType | TypeVar)
        and getattr(value, "__module__", None) == name
    }
    assert defined - set(module.__all__) == DEFINED_NOT_EXPORTED.get(name, set())


def test_package_namespace_holds_only_exported_names() -> None:
    """Nothing leaks into `cadence`: its public attributes (not sub-modules) are its `__all__`."""
    public = {
        key
        for key, value in vars(cadence).items()
        if not key.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert (public - PACKAGE_NAMESPACE_NOISE) | LAZY_IN_PACKAGE | {"__version__"} == set(cadence.__all__)


def test_spec_submodules_are_public() -> None:
    """SPEC.md's public sub-modules, and the ones the studio builds on, are in the export lists."""
    spec = {"score", "note", "exceptions", "hooks", "resilience", "reporters", "diagram", "result", "types"}
    more = {"events", "merge", "stepping", "recorder", "integrations.fastapi", "integrations.flask"}
    assert {f"cadence.{name}" for name in spec | more} <= set(EXPORTS)
