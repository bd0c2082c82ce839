"""A run on another engine (Temporal), seen from the studio's worker: user code still runs only here.

``cadence-studio run --backend temporal`` and ``schedule create`` start a workflow from the command
line's process, which never imports the user's module: this worker builds the cadence and its first
score exactly as a local run does (factory arguments, ``--score``) and hands back the score serialised
as checkpoints serialise it, with the plan's fingerprint; at the end it restores the workflow's final
score to draw it as a local run's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cadence import Cadence, CheckpointError, _fingerprint
from cadence.serialize import SerializationError, restore_score, serialize_score

from .. import protocol as p
from ..errors import StudioError
from .catalog import tree
from .score_input import ScoreInputError
from .tracebacks import USER_ERRORS, error_info

#: the worker's own ways to build a run's cadence and its first score (``Worker._cadence_for`` ...)
CadenceFor = Callable[[p.Run], Cadence[Any]]
StartScore = Callable[[Cadence[Any], p.Run], Any]

__all__ = ["fingerprint", "prepare_start", "render_score"]


def fingerprint(cadence: Cadence[Any]) -> tuple[str, list[list[str]]]:
    """The fingerprint and structure the Temporal workflow checks its plan against (the plan's are
    the checkpoints': ``cadence._fingerprint.shape``); a differing one fails it as ``DefinitionChanged``
    naming the first differing node."""
    shape = _fingerprint.shape(cadence)
    return str(shape["fingerprint"]), [list(item) for item in shape["structure"]]


def _qualified(score: Any) -> str:
    kind = type(score)
    return f"{kind.__module__}:{kind.__qualname__}"


def prepare_start(
    command: p.PrepareStart, cadence_for: CadenceFor, start_score: StartScore
) -> p.StartPrepared:
    run = p.Run(target=command.target, args=command.args, score=command.score)
    try:
        cadence = cadence_for(run)
        score = start_score(cadence, run)
        data = serialize_score(score)
        print_, structure = fingerprint(cadence)
        return p.StartPrepared(
            target=command.target,
            cadence=cadence.name,
            score=data,
            fingerprint=print_,
            structure=structure,
            score_type=_qualified(score),
            graph=cadence.describe(),
        )
    except (StudioError, ScoreInputError, CheckpointError, SerializationError) as error:
        return p.StartPrepared(target=command.target, error=error_info(error), refused=True)
    except USER_ERRORS as error:  # the user's factory or score raised
        return p.StartPrepared(target=command.target, error=error_info(error))


def render_score(command: p.RenderScore, cadence_for: CadenceFor) -> p.ScoreRendered:
    try:
        cadence = cadence_for(p.Run(target=command.target, args=command.args))
        base = cadence.get_score()
        if base is None:
            return p.ScoreRendered(error=f"cadence {cadence.name!r} has no score type")
        return p.ScoreRendered(tree=tree(restore_score(type(base), command.score)))
    except USER_ERRORS as error:
        return p.ScoreRendered(error=f"{type(error).__name__}: {error}")
