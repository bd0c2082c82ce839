"""Durable runs in the studio: resume a run (R) and re-run from the selected note (F).

Both act on the run on screen: the current one once it ended, or a past one opened with h. A resume
goes on from the run's checkpoints in the worker as the code is now; a re-run from a note first shows
its plan (measures reused from the run, measures that will run) with the score it starts from, to edit
or keep, then runs live. The run history records where each came from (its lineage).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ... import protocol as p
from ...store.checkpoints import recorded_as, rerun_of, resume_of
from ...store.history import HistoryError
from .studio_run import RunControls

__all__ = ["DurableControls", "plan_text"]

PLAN_TIMEOUT = 10.0  # seconds to wait for the worker's plan of a re-run


def plan_text(plan: p.RerunPlan, run: int) -> str:
    """A re-run's plan in words, for the dialog's title."""
    lines = [f"Re-run from {plan.node_id} (run #{run})"]
    if plan.start_at != plan.node_id:
        lines.append(f"{plan.node_id} is inside {plan.start_at}: it runs again as a whole")
    lines.append(f"reused from #{run}: {', '.join(_short(n) for n in plan.reused) or 'nothing'}")
    lines.append(f"will run: {', '.join(_short(n) for n in plan.will_run)}")
    lines.append("the score as it was before it (edit it, or keep it):")
    return "\n".join(lines)


def _short(node_id: str) -> str:
    return node_id.split("/", 1)[-1]


class DurableControls(RunControls):
    """R resumes the run on screen; F re-runs it from the selected note."""

    #: the history number of the past run on screen (opened with h), if one is
    shown_history_run: int | None = None
    _plan: asyncio.Future[p.RerunPlan] | None = None

    def _apply(self, message: p.Message) -> set[str]:
        changed = super()._apply(message)
        if isinstance(message, p.RerunPlan) and self._plan is not None and not self._plan.done():
            self._plan.set_result(message)
        if isinstance(message, p.RunBegan):
            self.shown_history_run = None  # a new run is on screen
        return changed

    def _history_run(self) -> int | None:
        """The history number of the run on screen, or None (after telling why)."""
        run = self.session.run
        if self.history is None:
            self.notify("run history is off, so runs are not checkpointed", severity="warning")
            return None
        if run is None:
            self.notify("no run on screen: run one (r) or open a past one (h)", severity="warning")
            return None
        if not run.finished:
            self.notify("the run is going on: stop it (x) or let it end first", severity="warning")
            return None
        if self.shown_history_run is not None:
            return self.shown_history_run
        if self._recorder is not None:
            self._recorder.flush()
        number = recorded_as(self.history, self.last_checkpoint) if self.last_checkpoint else None
        if number is None:
            self.notify("this run was not checkpointed; open a recorded one with h", severity="warning")
        return number

    async def action_resume(self) -> None:
        """Go on with the run on screen from its last completed note (its worker died, it was stopped
        or it failed)."""
        number = self._history_run()
        if number is None or self.history is None:
            return
        try:
            summary, durable = resume_of(self.history, number, in_studio=True)
        except HistoryError as error:
            self.notify(str(error), title="Resume", severity="error", timeout=10)
            return
        if not self._select(summary.entry):
            return
        if self._recorder is not None:
            self._recorder.next_run(parent=number)
        self.notify(f"resuming run #{number} from its last completed note", title="Resume", timeout=4)
        await self._start(pause_at_start=False, durable=durable, args=summary.args)

    async def action_rerun_from(self) -> None:
        """Re-run the run on screen from the selected note: its plan, the score to edit, then live."""
        node_id = self.focus_node
        if node_id is None:
            self.notify("select a finished note first (↑ ↓), then F", severity="warning")
            return
        run = self.session.run
        number = self._history_run()
        if number is None or self.history is None or run is None:
            return
        state = run.nodes.get(node_id)
        if state is not None and state.status not in ("done", "skipped", "reused"):
            self.notify(
                f"{node_id} did not finish in this run; re-run from a note that did", severity="warning"
            )
            return
        try:
            summary, durable = rerun_of(self.history, number, node_id)
        except HistoryError as error:
            self.notify(str(error), title="Re-run", severity="error", timeout=10)
            return
        if not self._select(summary.entry):
            return
        base = durable.base or ""
        self._plan = asyncio.get_running_loop().create_future()
        await self.client.send(
            p.PlanRerun(
                target=summary.entry, args=summary.args, store=durable.store, base=base, node_id=node_id
            )
        )
        try:
            plan = await asyncio.wait_for(self._plan, PLAN_TIMEOUT)
        except TimeoutError:
            self.notify("the worker did not answer; try again", title="Re-run", severity="error")
            return
        if plan.error is not None or plan.start_at is None:
            why = (plan.error or "no plan").replace(f"run {base!r}", f"run #{number}")
            self.notify(why, title="Re-run", severity="error", timeout=10)
            return
        self._ask_score(plan, number, summary.args, durable)

    def _ask_score(self, plan: p.RerunPlan, number: int, args: dict[str, Any], durable: p.Durable) -> None:
        assert plan.start_at is not None
        start_at = plan.start_at
        from .dialogs import ScoreDialog  # (dialogs are imported when first opened)

        dialog = ScoreDialog(
            plan_text(plan, number),
            json.dumps(plan.score_json, indent=2),
            self._checker(self.session.selected or ""),
        )

        async def chosen(data: dict[str, Any] | None) -> None:
            if data is None:
                return
            edited = data if data and data != plan.score_json else None  # Reset ({}): as it was
            if self._recorder is not None:
                self._recorder.next_run(parent=number, forked_at=plan.node_id)
            self.notify(f"re-running run #{number} from {start_at}", title="Re-run", timeout=4)
            await self._start(
                pause_at_start=False,
                durable=durable.model_copy(update={"start_at": start_at}),
                score=edited,
                args=args,
            )

        self.app.push_screen(dialog, chosen)

    def _checker(self, name: str) -> Any:
        """How the score dialog has the worker check a score (the studio screen's)."""
        raise NotImplementedError

    def _select(self, entry: str) -> bool:
        if entry not in {e.name for e in self.session.entries}:
            self.notify(f"{entry} is no longer in {self.session.target}", severity="warning")
            return False
        if self.session.selected != entry:
            self.session.selected = entry
            self._fill_cadences()
        return True
