"""What the worker tells the UI about the user's module: one catalog entry per cadence or factory, and
the scores it draws; plus the factory arguments it checks before a run."""

from __future__ import annotations

import contextlib
import inspect
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import TypeAdapter, ValidationError

from cadence import Cadence, Score, _fingerprint
from cadence._fork import is_fork

from .. import protocol as p
from .loader import Found
from .score_input import ScoreInputError, input_json, kept_fields, score_schema
from .tracebacks import USER_ERRORS, error_info
from .values import value_tree

__all__ = ["catalog_entry", "display", "factory_args", "tree", "warm_up"]


def display(score: Any) -> Any:
    """Something to draw for a score: a ``.sync`` task's lazy view is shown without copying."""
    if not is_fork(score):
        return score
    shown = object.__new__(score.__class__)
    shown.__dict__.update(vars(score._cadence_base))
    shown.__dict__.update(vars(score))
    return shown


def tree(score: Any) -> Any:
    return None if score is None else value_tree(display(score))


def _hints(factory: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(factory)
    except Exception:
        return {}


def _default_score(annotation: Any) -> Any:
    """A score made with its defaults when ``annotation`` is a ``Score`` class that needs no argument,
    else ``inspect.Parameter.empty``: ``create_x(score: XScore)`` runs as ``create_x(XScore())``."""
    return annotation() if _is_default_score(annotation) else inspect.Parameter.empty


def _is_default_score(annotation: Any) -> bool:
    if not (isinstance(annotation, type) and issubclass(annotation, Score)):
        return False
    try:
        inspect.signature(annotation).bind()
    except (TypeError, ValueError):
        return False
    return True


def _display(default: Any, annotation: Any) -> str | None:
    """A default that is no JSON data, as Python spells it: the Score a score parameter gets when it
    has none (``OrderScore()``), or the default's repr (cut short); None for a JSON default."""
    if default is inspect.Parameter.empty:
        return f"{annotation.__name__}()"
    if _jsonable(default):
        return None
    text = repr(default)
    return text if len(text) <= 60 else text[:59] + "…"


def factory_args(factory: Any, given: dict[str, Any]) -> dict[str, Any]:
    """Validate ``given`` against the factory's signature with pydantic; messages name the parameter.

    A parameter typed with a ``Score`` class whose fields all have defaults gets that score when it is
    not given."""
    signature = inspect.signature(factory)
    hints = _hints(factory)
    unknown = sorted(set(given) - set(signature.parameters))
    if unknown:
        msg = f"{factory.__name__}() has no parameter(s) {', '.join(map(repr, unknown))}"
        raise ScoreInputError(msg, fields=unknown)
    args: dict[str, Any] = {}
    for name, param in signature.parameters.items():
        if name not in given:
            if param.default is not inspect.Parameter.empty:
                continue
            score = _default_score(hints.get(name))
            if score is inspect.Parameter.empty:
                msg = f"{factory.__name__}() needs the argument {name!r}"
                raise ScoreInputError(msg, fields=[name])
            args[name] = score
            continue
        try:
            args[name] = TypeAdapter(hints.get(name, Any)).validate_python(given[name])
        except ValidationError as error:
            problem = error.errors()[0]["msg"]
            msg = f"argument {name!r}: {problem} (got {given[name]!r})"
            raise ScoreInputError(msg, fields=[name]) from None
    return args


def catalog_entry(found: Found) -> p.CadenceEntry:
    """What the UI is told about one cadence or factory: its graph, score, schema, parameters."""
    doc = inspect.getdoc(found.obj) if found.kind == "factory" else None
    params: list[p.Param] = []
    error = None
    cadence: Cadence[Any] | None = found.obj if found.kind == "cadence" else None
    if found.kind == "factory":
        hints = _hints(found.obj)
        for param in inspect.signature(found.obj).parameters.values():
            has_default = param.default is not inspect.Parameter.empty
            if not has_default and param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
                # A Score parameter with all-default fields: the factory runs on that score.
                has_default = _is_default_score(hints.get(param.name))
            annotation = param.annotation
            params.append(
                p.Param(
                    name=param.name,
                    annotation=None if annotation is inspect.Parameter.empty else str(annotation),
                    default=param.default if has_default and _jsonable(param.default) else None,
                    required=not has_default,
                    display=_display(param.default, hints.get(param.name)) if has_default else None,
                )
            )
        if all(not prm.required for prm in params):
            try:
                cadence = found.obj(**factory_args(found.obj, {}))
            except USER_ERRORS as failure:
                error = error_info(failure)
    if cadence is None:
        return p.CadenceEntry(name=found.name, kind=found.kind, doc=doc, params=params, error=error)
    score = cadence.get_score()
    return p.CadenceEntry(
        name=found.name,
        kind=found.kind,
        doc=doc,
        params=params,
        graph=cadence.describe(),
        score_type=cadence.score_type_name(),
        score=tree(score),
        score_json=input_json(score) if score is not None else None,
        score_kept=kept_fields(score) if score is not None else {},
        score_schema=score_schema(type(score)) if score is not None else None,
        error=error,
    )


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def warm_up(found: Iterable[Found]) -> None:
    """What the first run of each cadence does first, done while the user reads the first screen: its
    fingerprint (every note's code hashed; kept per definition, ~half of the first step of a 1,000-note
    cadence), and the import of sqlite3 its checkpoints are written with (~5 ms)."""
    import sqlite3  # noqa: F401 - imported by the first checkpointed run otherwise

    for each in found:
        if each.kind == "cadence":
            with contextlib.suppress(Exception):  # its run will say what is wrong with it
                _fingerprint.shape(each.obj)
