"""A user's module annotated with `cadence.types` (checked with `mypy --strict` by test_types.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic

from cadence import Cadence, Score
from cadence.types import (
    AsyncCondition,
    AsyncNote,
    ChildMerge,
    ChildScoreT,
    Condition,
    ConditionCallable,
    ErrorHandler,
    NoteCallable,
    NoteFn,
    Reporter,
    ScoreT,
    SyncCondition,
    SyncNote,
)


@dataclass
class OrderScore(Score):
    total: int = 0
    paid: bool = False
    log: list[str] = field(default_factory=list)


@dataclass
class PaymentScore(Score):
    charged: bool = False


def price(score: OrderScore) -> None:
    score.total = 120


async def audit(score: OrderScore) -> None:
    score.log.append("audited")


def is_big(score: OrderScore) -> bool:
    return score.total > 100


async def is_flagged(score: OrderScore) -> bool:
    return "flag" in score.log


def charge(score: PaymentScore) -> None:
    score.charged = True


def merge_payment(parent: OrderScore, child: PaymentScore) -> None:
    parent.paid = child.charged


def on_failure(score: object, error: BaseException) -> None:
    print(f"failed: {error!r}")


def report(name: str, elapsed: float, score: object) -> None:
    pass


PRICE: SyncNote[OrderScore] = price
AUDIT: AsyncNote[OrderScore] = audit
NOTES: list[NoteCallable[OrderScore]] = [price, audit]
BIG: SyncCondition[OrderScore] = is_big
FLAGGED: AsyncCondition[OrderScore] = is_flagged
CONDITIONS: list[ConditionCallable[OrderScore]] = [is_big, is_flagged]
MERGE: ChildMerge[OrderScore, PaymentScore] = merge_payment
ANY_NOTE: NoteFn = price
ANY_CONDITION: Condition = is_big
HANDLER: ErrorHandler = on_failure
REPORTER: Reporter = report


class Step(Generic[ScoreT, ChildScoreT]):
    """A user's generic helper over a parent and a child score."""

    def __init__(self, note: NoteCallable[ScoreT], merge: ChildMerge[ScoreT, ChildScoreT]) -> None:
        self.note = note
        self.merge = merge


STEP: Step[OrderScore, PaymentScore] = Step(price, merge_payment)


def first_note(notes: list[NoteCallable[ScoreT]]) -> NoteCallable[ScoreT]:
    return notes[0]


def build() -> Cadence[OrderScore]:
    payment = Cadence("payment", PaymentScore()).then("charge", charge)
    return (
        Cadence("checkout", OrderScore())
        .then("price", first_note(NOTES))
        .then("audit", AUDIT)
        .split("route", BIG, [AUDIT])
        .child("pay", payment, MERGE)
        .on_error(HANDLER)
        .with_reporter(REPORTER)
    )
