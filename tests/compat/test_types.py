"""`cadence.types`: the aliases users annotate with are exported, documented, carry the score type for
mypy (a module annotated with them passes `mypy --strict`; a note on the wrong score is an error)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TypeVar

import mypy.api

import cadence.types
from cadence.types import ChildScoreT, ScoreT
from tests.compat import typed_user_module as user

ROOT = Path(__file__).resolve().parents[2]
ALIASES = (
    "AsyncCondition",
    "AsyncNote",
    "ChildMerge",
    "ConditionCallable",
    "NoteCallable",
    "SyncCondition",
    "SyncNote",
)


def _mypy(path: Path, cache: Path) -> tuple[str, int]:
    out, err, status = mypy.api.run(["--strict", "--cache-dir", str(cache), str(path)])
    return out + err, status


def test_the_annotated_module_runs() -> None:
    """The module annotated with the aliases builds and runs its cadence."""
    score = user.build().run_sync(user.OrderScore())
    assert (score.total, score.paid, score.log) == (120, True, ["audited", "audited"])
    assert user.STEP.note is user.price


def test_the_annotated_module_passes_mypy_strict(tmp_path: Path) -> None:
    """`mypy --strict` on a user's module annotated with every alias finds nothing."""
    report, status = _mypy(ROOT / "tests" / "compat" / "typed_user_module.py", tmp_path / "cache")
    assert status == 0, report
    assert "Success: no issues found in 1 source file" in report


def test_the_aliases_carry_the_score_type_for_mypy(tmp_path: Path) -> None:
    """A note on another score given as `SyncNote[OrderScore]` is a mypy error (the alias is not Any)."""
    snippet = tmp_path / "wrong.py"
    snippet.write_text(
        "from __future__ import annotations\n"
        "from cadence.types import ChildMerge, SyncCondition, SyncNote\n"
        "from tests.compat.typed_user_module import OrderScore, PaymentScore, charge, merge_payment\n"
        "NOTE: SyncNote[OrderScore] = charge\n"
        "MERGE: ChildMerge[PaymentScore, OrderScore] = merge_payment\n"
        "def count(score: OrderScore) -> int:\n"
        "    return score.total\n"
        "COND: SyncCondition[OrderScore] = count\n"
    )
    report, status = _mypy(snippet, tmp_path / "cache")
    assert status == 1, report
    assert (
        "wrong.py:4: error: Incompatible types in assignment "
        '(expression has type "Callable[[PaymentScore], None]"' in report
    )
    assert "wrong.py:5: error: Incompatible types in assignment" in report
    assert "wrong.py:8: error: Incompatible types in assignment" in report


def test_type_variables_and_aliases_are_documented() -> None:
    """`ScoreT` / `ChildScoreT` are TypeVars; the module docstring documents every exported alias."""
    assert isinstance(ScoreT, TypeVar)
    assert isinstance(ChildScoreT, TypeVar)
    doc = inspect.getdoc(cadence.types) or ""
    missing = [name for name in cadence.types.__all__ if f"``{name}" not in doc]
    assert missing == []
    for name in ALIASES:
        assert name in cadence.types.__all__
