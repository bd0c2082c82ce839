"""The public API: a sorted, complete ``__all__`` and the names the spec promises."""

from __future__ import annotations

import importlib

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
