"""What each activity type of a registered cadence runs: the index from node ids to user code.

Built once per (task queue, cadence) in the worker process, from the definition objects.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from temporalio.exceptions import ApplicationError

from ..._measures import (
    BranchMeasure,
    ChildMeasure,
    FreshCopier,
    NoteMeasure,
    ParallelMeasure,
    SequenceMeasure,
)
from ..._note import Note
from ..._runtime import Level, Sink, make_caller
from ...resilience import Fallback, Retry, Timeout
from ...serialize import restore_score, serialize_score
from . import _registry
from ._merge import canonical
from ._plan import BUILTIN_MERGES, Chain, iter_cadences, note_policies

__all__ = ["Entry", "changes_of", "entry_for", "import_type", "restore"]


@dataclasses.dataclass
class Entry:
    """One activity type: what kind of call it is, its node, the user callable and where it sits."""

    kind: str
    node_id: str
    name: str
    chain: Chain
    fn: Any = None
    call: Any = None
    retry: Retry | None = None
    timeout: Timeout | None = None
    fallback: Fallback | None = None
    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    child: Any = None
    fresh: FreshCopier | None = None

    @property
    def definition(self) -> Any:
        return self.chain[-1][0]

    def level(self, run_id: str, wrap: Any = None) -> Level:
        """The engine level this node runs at: the root's hooks and reporters and those of every
        child cadence on the way (each object once), as in a local run."""
        root, root_id = self.chain[0]
        own, ids = root.sinks()
        level = Level(
            run_id=run_id, cadence=root.name, node_id=root_id, depth=0, sinks=own, active=ids, controller=None
        )
        for definition, cid in self.chain[1:]:
            level = level.child(definition, cid)
            if level.node_id != cid:  # an unobserved child's shared plain level
                level = Level(
                    run_id=run_id,
                    cadence=definition.name,
                    node_id=cid,
                    depth=len(self.chain) - 1,
                    sinks=(),
                    active=frozenset(),
                    controller=None,
                )
        sinks: list[Sink] = list(level.sinks)
        if wrap is not None:
            sinks = [wrap(s) for s in sinks]
        return Level(
            run_id=run_id,
            cadence=level.cadence,
            node_id=level.node_id,
            depth=level.depth,
            sinks=sinks,
            active=level.active,
            controller=None,
        )


def _stripped(fn: Any) -> Any:
    """The note without the policies Temporal carries out (retry, timeout, fallback)."""
    if not isinstance(fn, Note):
        return fn
    kept = tuple(p for p in fn.policies if p.kind not in ("retry", "timeout", "fallback"))
    return Note(fn.fn, name=fn.name, description=fn.description, policies=kept)


def _first(fn: Any, kind: str) -> Any:
    if isinstance(fn, Note):
        return next((p for p in fn.policies if p.kind == kind), None)
    return None


def _note_entries(out: dict[str, Entry], node_id: str, name: str, fn: Any, chain: Chain) -> None:
    entry = Entry(
        "note",
        node_id,
        name,
        chain,
        fn=fn,
        call=make_caller(_stripped(fn)),
        retry=_first(fn, "retry"),
        timeout=_first(fn, "timeout"),
        fallback=_first(fn, "fallback"),
        options=note_policies(fn),
    )
    out[node_id] = entry
    if entry.fallback is not None:
        out[f"{node_id}#fallback"] = dataclasses.replace(entry, kind="fallback")


def build_index(cadence: Any) -> dict[str, Entry]:
    """``{activity type: Entry}`` of a cadence and its children."""
    out: dict[str, Entry] = {}
    for cid, definition, chain in iter_cadences(cadence):
        for suffix in ("started", "ended", "on_error"):
            out[f"{cid}#{suffix}"] = Entry(suffix, cid, definition.name, chain)
        for m in definition.measures:
            nid = f"{cid}/{m.seg}"
            if isinstance(m, NoteMeasure):
                _note_entries(out, nid, m.name, m.task, chain)
            elif isinstance(m, (SequenceMeasure, ParallelMeasure)):
                for t in m.tasks:
                    _note_entries(out, f"{nid}/{t.seg}", t.name, t.fn, chain)
                if isinstance(m, ParallelMeasure) and m.merge_strategy not in BUILTIN_MERGES:
                    out[f"{nid}#merge"] = Entry("sync_merge", nid, m.name, chain, fn=m.merge_strategy)
            elif isinstance(m, BranchMeasure):
                out[nid] = Entry("condition", nid, m.name, chain, fn=m.condition, call=m.decide)
                for value, label in ((True, "true"), (False, "false")):
                    for t in m.branches[value]:
                        _note_entries(out, f"{nid}/{label}/{t.seg}", t.name, t.fn, chain)
            elif isinstance(m, ChildMeasure):
                child_chain = [*chain, (m.child, nid)]
                out[f"{nid}#score"] = Entry(
                    "child_score", nid, m.name, chain, call=m.make_score, child=child_chain, fresh=m.fresh
                )
                out[f"{nid}#merge"] = Entry(
                    "child_merge", nid, m.name, chain, call=m.merge_call, child=child_chain
                )
    return out


_indexes: dict[tuple[str, str], dict[str, Entry]] = {}


def entry_for(task_queue: str, cadence_name: str, activity_type: str) -> Entry | None:
    key = (task_queue, cadence_name)
    index = _indexes.get(key)
    if index is None:
        cadence = _registry.cadence_of(task_queue, cadence_name)
        if cadence is None:
            return None
        index = _indexes[key] = build_index(cadence)
    return index.get(activity_type)


def import_type(ref: str) -> Any:
    """The class named ``module:Qualname``."""
    module, _, qualname = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def restore(entry: Entry, data: dict[str, Any], key: str = "score", type_key: str = "score_type") -> Any:
    """The score of ``data[key]`` as its score type (the input's ``score_type``, else the cadence's)."""
    ref = data.get(type_key)
    if ref:
        tp = import_type(ref)
    else:
        construction = entry.definition.get_score()
        if construction is None:
            msg = (
                f"cadence {entry.definition.name!r} has no score type: give it a score, or start it with one"
            )
            raise ApplicationError(msg, type="DefinitionError", non_retryable=True)
        tp = type(construction)
    return restore_score(tp, data[key])


def changes_of(before: dict[str, Any], after: Any) -> dict[str, Any]:
    """The fields of ``after`` whose serialised value differs from ``before``'s."""
    encoded = serialize_score(after)
    return {k: v for k, v in encoded.items() if k not in before or canonical(v) != canonical(before[k])}
