"""The one workflow, type ``Cadence``: walks a registered cadence's plan, one activity per note.

Deterministic: it reads only the plan (JSON), the workflow input and the activities' results. It
imports temporalio's workflow API and ``cadence`` (passed through the sandbox), never user code.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    TimeoutType,
)
from temporalio.exceptions import TimeoutError as TemporalTimeoutError

from ... import _fingerprint
from ...exceptions import MergeConflict
from . import _registry
from ._merge import merge_changes
from ._plan import find_node

__all__ = ["WORKFLOW_TYPE", "CadenceWorkflow"]

WORKFLOW_TYPE = "Cadence"
_TIMEOUT_TYPE = "cadence.exceptions:TimeoutError"


class _Stop(Exception):
    """Ends a cadence cleanly: a Skip (``skipped``) or an interrupt (``interrupted``)."""

    def __init__(self, status: str, reason: str | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.reason = reason


class _Failed(Exception):
    """A measure failed: ``kind`` is the failure's type (``NoteError``...), ``record`` its details[0]."""

    def __init__(
        self, kind: str, message: str, record: dict[str, Any], partial: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        #: What the failed note had changed in the score (a handler sees it, as in a local run).
        self.partial = partial or {}
        self.record = {k: v for k, v in record.items() if k != "changes"}

    def application_error(self) -> ApplicationError:
        return ApplicationError(self.message, self.record, type=self.kind, non_retryable=True)


def _short(error_type: str) -> str:
    return error_type.rpartition(":")[2].rpartition(".")[2]


def _note_failed(node: dict[str, Any], record: dict[str, Any]) -> _Failed:
    message = f"note {node['name']!r} failed: {_short(record['error_type'])}: {record['message']}"
    partial = record.get("changes") or {}
    return _Failed("NoteError", message, {**record, "node": node["id"], "name": node["name"]}, partial)


def _secs(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


@workflow.defn(name=WORKFLOW_TYPE)
class CadenceWorkflow:
    """Runs any cadence the worker registered, by name (``input["cadence"]``), or one of its children
    (``input["node"]``). See TEMPORAL.md for the input and output."""

    def __init__(self) -> None:
        self.notes = 0
        self.root = ""
        self.fingerprint = ""
        self.run_info: dict[str, Any] = {}
        self.score_type: str | None = None

    @workflow.run
    async def run(self, data: dict[str, Any]) -> dict[str, Any]:
        info = workflow.info()
        name = data.get("cadence", "")
        plan = _registry.plan_of(info.task_queue, name, data.get("fingerprint"))
        if plan is None:
            served = ", ".join(map(repr, _registry.served(info.task_queue))) or "none"
            msg = (
                f"no cadence named {name!r} is served on task queue {info.task_queue!r} (served: {served}); "
                "start a worker that loads the module defining it"
            )
            raise ApplicationError(msg, type="UnknownCadence", non_retryable=True)
        given = data.get("fingerprint")
        if given and given != plan["fingerprint"]:
            where = "its structure differs"
            if data.get("structure"):
                where = _fingerprint.first_difference(
                    data["structure"], [tuple(s) for s in plan["structure"]]
                )
                where = where.replace("when the run was checkpointed", "where the run was started")
            msg = (
                f"the definition of cadence {name!r} on this worker is not the one the run was started "
                f"with: {where}; run the same code on the worker and the starter"
            )
            raise ApplicationError(
                msg, {"node": plan["id"], "detail": where}, type="DefinitionChanged", non_retryable=True
            )
        node_id = data.get("node") or plan["id"]
        cadence = find_node(plan, node_id)
        if cadence is None:
            msg = f"cadence {name!r} has no child cadence {node_id!r}"
            raise ApplicationError(msg, type="DefinitionChanged", non_retryable=True)
        self.root = name
        self.fingerprint = plan["fingerprint"]
        self.run_info = {**data.get("run", {})}
        self.run_info.setdefault("root", info.workflow_id)
        self.score_type = data.get("score_type") or cadence["score_type"]
        score: dict[str, Any] = dict(data.get("score") or {})
        try:
            status, reason = await self._cadence(cadence, score)
        except _Failed as failed:
            raise failed.application_error() from None
        return {
            "status": status,
            "score": score,
            "reason": reason,
            "notes": self.notes,
            "score_type": self.score_type,
        }

    # ------------------------------------------------------------------ activities

    def _input(self, node_id: str, score: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "cadence": self.root,
            "node": node_id,
            "score": score,
            "workflow_id": self.run_info["root"],
            "run_id": workflow.info().run_id,
            "score_type": self.score_type,
            **extra,
        }

    async def _call(
        self, activity: str, summary: str, arg: dict[str, Any], *, policies: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        settings = _registry.settings
        retry = RetryPolicy(maximum_attempts=1)
        start_to_close = settings.default_timeout
        schedule_to_close = None
        if policies is not None:
            r = policies["retry"]
            if r is not None:
                retry = RetryPolicy(
                    maximum_attempts=r["max_attempts"],
                    initial_interval=_secs(r["initial"]),
                    backoff_coefficient=r["backoff"],
                    maximum_interval=_secs(r["max_interval"]),
                )
            t = policies["timeout"]
            if t is not None:
                start_to_close = min(start_to_close, t["start_to_close"])
                if not t["per_attempt"]:
                    schedule_to_close = _secs(t["seconds"])
        result: dict[str, Any] = await workflow.execute_activity(
            activity,
            arg,
            result_type=dict,
            start_to_close_timeout=_secs(start_to_close),
            schedule_to_close_timeout=schedule_to_close,
            heartbeat_timeout=_secs(settings.heartbeat_timeout),
            retry_policy=retry,
            summary=summary,
        )
        return result

    async def _helper(
        self, activity: str, summary: str, node: dict[str, Any], arg: dict[str, Any]
    ) -> dict[str, Any]:
        """A helper activity (condition, merge, score factory, handler): its failure names ``node``."""
        lost = 0
        while True:
            try:
                return await self._call(activity, summary, arg)
            except ActivityError as error:
                cause = error.cause
                if isinstance(cause, TemporalTimeoutError) and cause.type == TimeoutType.HEARTBEAT:
                    lost += 1
                    if lost <= _registry.settings.lost_worker_limit:
                        continue
                raise _note_failed(node, self._record(node, cause, lost)) from None

    async def _note(self, node: dict[str, Any], score: dict[str, Any]) -> dict[str, Any]:
        """Run one note as its activity; a lost worker schedules it again, a fallback replaces a failure."""
        lost = 0
        policies = node["policies"]
        while True:
            try:
                out = await self._call(
                    node["id"], node["name"], self._input(node["id"], score), policies=policies
                )
                self.notes += 1
                return out
            except ActivityError as error:
                cause = error.cause
                if isinstance(cause, TemporalTimeoutError) and cause.type == TimeoutType.HEARTBEAT:
                    lost += 1
                    if lost <= _registry.settings.lost_worker_limit:
                        workflow.logger.warning(
                            "the worker running %s was lost; running it again", node["id"]
                        )
                        continue
                record = self._record(node, cause, lost)
                fallback = policies["fallback"]
                if fallback is not None and record.pop("fallback", False):
                    partial = record.pop("changes", None) or {}
                    out = await self._fallback(node, {**score, **partial}, record)
                    return {**out, "changes": {**partial, **(out.get("changes") or {})}}
                raise _note_failed(node, record) from None

    def _record(self, node: dict[str, Any], cause: BaseException | None, lost: int) -> dict[str, Any]:
        """details[0] of a failed note: the note's own record, or one made for a Temporal timeout."""
        if isinstance(cause, ApplicationError) and cause.details and isinstance(cause.details[0], dict):
            return dict(cause.details[0])
        record: dict[str, Any] = {
            "node": node["id"],
            "name": node["name"],
            "traceback": "",
            "fallback": False,
        }
        if isinstance(cause, TemporalTimeoutError) and cause.type == TimeoutType.HEARTBEAT:
            record["error_type"] = "cadence.integrations.temporal:WorkerLost"
            record["message"] = (
                f"the worker running it was lost {lost} time{'s' if lost != 1 else ''} (no heartbeat for "
                f"{_registry.settings.heartbeat_timeout}s); check that workers stay up"
            )
        elif isinstance(cause, TemporalTimeoutError):
            timeout = (node.get("policies") or {}).get("timeout") or {}
            seconds = timeout.get("seconds", _registry.settings.default_timeout)
            record["error_type"] = _TIMEOUT_TYPE
            record["message"] = (
                f"[TIMEOUT] note {node['name']!r} did not finish within {seconds}s; "
                "raise the timeout or speed the note up"
            )
            fallback = (node.get("policies") or {}).get("fallback")
            record["fallback"] = bool(fallback and fallback["catches_timeout"])
        else:
            record["error_type"] = f"{type(cause).__module__}:{type(cause).__qualname__}"
            record["message"] = str(cause)
        return record

    async def _fallback(
        self, node: dict[str, Any], score: dict[str, Any], record: dict[str, Any]
    ) -> dict[str, Any]:
        fallback = node["policies"]["fallback"]
        default = fallback["default"]
        if default is not None and not self.observed:
            return {"changes": {fallback["field"]: default["value"]}, "result": None, "skip": None}
        error = {"type": record["error_type"], "message": record["message"], "args": record.get("args")}
        arg = self._input(node["id"], score, error=error)
        return await self._helper(f"{node['id']}#fallback", f"{node['name']} (fallback)", node, arg)

    # ------------------------------------------------------------------ measures

    observed = False

    async def _cadence(self, cadence: dict[str, Any], score: dict[str, Any]) -> tuple[str, str | None]:
        self.observed = cadence["observed"]
        start = workflow.now()
        status, reason = "done", None
        error: dict[str, Any] | None = None
        if self.observed:
            await self._helper(
                f"{cadence['id']}#started",
                f"{cadence['name']} started",
                cadence,
                self._input(cadence["id"], score),
            )
        try:
            for measure in cadence["measures"]:
                try:
                    await self._measure(measure, score)
                except _Stop as stop:
                    status, reason = stop.status, stop.reason
                    break
                except _Failed as failed:
                    handler = cadence["on_error"]
                    if handler is None:
                        raise
                    score.update(failed.partial)
                    arg = self._input(cadence["id"], score, error=self._error_of(failed))
                    out = await self._helper(
                        f"{cadence['id']}#on_error", f"{cadence['name']} on_error", cadence, arg
                    )
                    score.update(out.get("changes") or {})
                    if handler["stop"]:
                        status, reason, error = "handled", failed.message, self._error_of(failed)
                        break
        except _Failed as failed:
            error = self._error_of(failed)
            if self.observed:
                await self._ended(cadence, score, "failed", start, error)
            raise
        if self.observed:
            await self._ended(cadence, score, "failed" if status == "handled" else status, start, error)
        return status, reason

    async def _ended(
        self,
        cadence: dict[str, Any],
        score: dict[str, Any],
        status: str,
        start: Any,
        error: dict[str, Any] | None,
    ) -> None:
        duration = (workflow.now() - start).total_seconds()
        arg = self._input(cadence["id"], score, status=status, duration=duration, error=error)
        await self._helper(f"{cadence['id']}#ended", f"{cadence['name']} ended", cadence, arg)

    @staticmethod
    def _error_of(failed: _Failed) -> dict[str, Any]:
        record = failed.record
        return {
            "kind": failed.kind,
            "message": failed.message,
            "node": record.get("node"),
            "name": record.get("name"),
            "type": record.get("error_type"),
            "error_message": record.get("message"),
            "group": record.get("group"),
            "args": record.get("args"),
        }

    async def _measure(self, measure: dict[str, Any], score: dict[str, Any]) -> None:
        kind = measure["kind"]
        if kind == "note":
            self._apply(measure, score, await self._note(measure, score))
        elif kind == "sequence":
            await self._in_order(measure["notes"], score)
        elif kind == "sync":
            await self._parallel(measure, measure["name"], measure["notes"], measure["merge"], score)
        elif kind == "split":
            out = await self._helper(
                measure["id"], measure["name"], measure, self._input(measure["id"], score)
            )
            score.update(out.get("changes") or {})
            label = "true" if out["value"] else "false"
            notes = measure[label]
            if measure["parallel"] and len(notes) > 1:
                await self._parallel(measure, f"{measure['name']}/{label}", notes, "fail_on_conflict", score)
            else:
                await self._in_order(notes, score)
        elif kind == "child":
            await self._child(measure, score)
        else:  # pragma: no cover - the plan only has the kinds above
            msg = f"unknown measure kind {kind!r}"
            raise _Failed("DefinitionChanged", msg, {"node": measure["id"]})

    def _apply(self, node: dict[str, Any], score: dict[str, Any], out: dict[str, Any]) -> None:
        score.update(out.get("changes") or {})
        if out.get("skip") is not None:
            raise _Stop("skipped", out["skip"])
        if node.get("can_interrupt") and out.get("result") is True:
            raise _Stop("interrupted")

    async def _in_order(self, notes: list[dict[str, Any]], score: dict[str, Any]) -> None:
        for node in notes:
            self._apply(node, score, await self._note(node, score))

    async def _member(self, node: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
        out = await self._note(node, base)
        if out.get("skip") is not None:
            raise _Stop("skipped", out["skip"])
        return out

    async def _parallel(
        self,
        group: dict[str, Any],
        group_name: str,
        notes: list[dict[str, Any]],
        merge: str | None,
        score: dict[str, Any],
    ) -> None:
        base = dict(score)
        running = [asyncio.ensure_future(self._member(node, base)) for node in notes]
        try:
            await workflow.wait(running, return_when=asyncio.FIRST_EXCEPTION)
        except BaseException:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise
        failed = next(
            (t for t in running if t.done() and not t.cancelled() and t.exception() is not None), None
        )
        if failed is not None:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            first = failed.exception()
            if isinstance(first, _Failed) and first.kind == "NoteError":
                index = running.index(failed)
                node = notes[index]
                record = {**first.record, "group": group_name, "task_index": index}
                message = (
                    f"parallel task {node['name']!r} of {group_name!r} failed: "
                    f"{_short(record['error_type'])}: {record['message']}"
                )
                raise _Failed("ParallelNoteError", message, record)
            assert first is not None
            raise first
        outs = [t.result() for t in running]
        changes = [out.get("changes") or {} for out in outs]
        names = [node["name"] for node in notes]
        if merge is not None:
            try:
                values = merge_changes(merge, base, names, changes)
            except MergeConflict as conflict:
                record = {
                    "node": group["id"],
                    "name": group_name,
                    "error_type": "cadence.exceptions:MergeConflict",
                    "message": str(conflict),
                    "traceback": "",
                    "field": conflict.field,
                    "tasks": list(conflict.tasks),
                }
                raise _Failed("MergeConflict", str(conflict), record) from None
        else:
            snapshots = [{"task": n, "changes": c} for n, c in zip(names, changes, strict=True)]
            arg = self._input(group["id"], base, snapshots=snapshots)
            out = await self._helper(f"{group['id']}#merge", f"{group_name} (merge)", group, arg)
            values = out.get("changes") or {}
        score.update(values)

    async def _child(self, measure: dict[str, Any], score: dict[str, Any]) -> None:
        child = measure["cadence"]
        child_score = measure["score"]
        child_type = child["score_type"]
        if child_score is None:
            out = await self._helper(
                f"{measure['id']}#score",
                f"{measure['name']} (score)",
                measure,
                self._input(measure["id"], score),
            )
            child_score, child_type = out["score"], out["score_type"]
        info = workflow.info()
        data = {
            "cadence": self.root,
            "node": child["id"],
            "score": child_score,
            "score_type": child_type,
            "fingerprint": self.fingerprint,
            "run": self.run_info,
        }
        try:
            result = await workflow.execute_child_workflow(
                WORKFLOW_TYPE,
                data,
                id=f"{info.workflow_id}/{measure['id'].rpartition('/')[2]}",
                task_queue=info.task_queue,
                result_type=dict,
                memo={"cadence": child["name"], "fingerprint": self.fingerprint, "score_type": child_type},
                static_summary=f"{measure['name']}: cadence {child['name']}",
            )
        except ChildWorkflowError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.details and isinstance(cause.details[0], dict):
                raise _Failed(cause.type or "NoteError", cause.message, dict(cause.details[0])) from None
            raise _note_failed(measure, self._record(measure, cause, 0)) from None
        self.notes += int(result.get("notes", 0))
        arg = self._input(measure["id"], score, child_score=result["score"], child_score_type=child_type)
        out = await self._helper(f"{measure['id']}#merge", f"{measure['name']} (merge)", measure, arg)
        score.update(out.get("changes") or {})
