"""Pilot tests of every studio interaction, against a scripted worker client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cadence import Cadence
from cadence_studio import protocol as p
from cadence_studio.ui.app import StudioApp, make_app
from cadence_studio.ui.screens import studio_run as studio_module
from cadence_studio.ui.screens.dialogs import CodeDialog
from cadence_studio.ui.screens.studio import StudioScreen
from cadence_studio.ui.widgets.gantt import Gantt
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from cadence_studio.ui.widgets.merge_view import MergePanel
from cadence_studio.ui.widgets.score_tree import ScoreTree
from cadence_studio.ui.widgets.timeline import Timeline
from tests.studio.scripted import Order, ScriptedClient, entry, event, factory_entry, load, order_tree

SIZE = (160, 48)


def app_with(client: ScriptedClient) -> StudioApp:
    return make_app("tests", client=client, watch=False)


def screen(app: StudioApp) -> StudioScreen:
    assert isinstance(app.screen, StudioScreen)
    return app.screen


def status_text(app: StudioApp) -> str:
    return str(screen(app).query_one("#status").render())


def finish_run(client: ScriptedClient, number: int = 1) -> None:
    client.push(
        event(number, "run_started", "order", order_tree()),
        event(number, "note_started", "order/load", order_tree()),
        event(
            number, "note_finished", "order/load", order_tree(items=["book"]), status="done", duration=0.002
        ),
        event(
            number,
            "merged",
            "order/enrich",
            order_tree(items=["book", "pen"], total=12),
            tasks=["order/enrich/price", "order/enrich/stock"],
            changes=[{"total": 12}, {"items": ["book", "pen"]}],
            conflicts={},
            strategy="fail_on_conflict",
        ),
        event(number, "branch_taken", "order/route", value=True, branch="true"),
        event(
            number,
            "retry_attempt",
            "order/payment/charge",
            attempt=1,
            max_attempts=3,
            error={"type": "ConnectionError", "message": "reset"},
        ),
        p.RunEnded(
            run=number,
            status="done",
            score=order_tree(items=["book", "pen"], total=13, paid=True),
            duration=0.01,
        ),
    )


async def test_opens_on_the_catalog_and_draws_the_graph() -> None:
    """The cadence list and the measure graph come from the worker's catalog."""
    client = ScriptedClient()
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        graph = screen(app).query_one(MeasureGraph)
        assert graph.drawing is not None
        assert "order/enrich/price" in graph.drawing.boxes
        assert "ready" in status_text(app)
        assert client.starts == 1


async def test_r_runs_and_events_update_graph_status_and_inspector() -> None:
    """r sends Run; events mark nodes done, the timeline fills, the status shows the result."""
    client = ScriptedClient()
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        run = client.commands(p.Run)
        assert [r.target for r in run] == ["order"]
        finish_run(client)
        await pilot.pause()
        graph = screen(app).query_one(MeasureGraph)
        assert graph.statuses["order/load"]["status"] == "done"
        assert graph.taken == {"order/route": "true"}
        assert "done" in status_text(app)
        timeline = screen(app).query_one("#timeline", Gantt)
        assert timeline.spans is not None
        assert [span.node for span in timeline.spans.rows][:2] == ["order/load", "order/enrich"]
        assert screen(app).query_one("#events", Timeline).shown >= 3
        run = screen(app).session.run
        assert run is not None
        assert run.nodes["order/payment/charge"].attempts == ["attempt 1/3: reset"]
        assert any("↻ order/payment/charge attempt 1 failed" in text for _, text, _ in run.timeline)


async def test_stepping_keys_send_step_over_and_continue() -> None:
    """n starts paused then steps; o steps over; c continues; a pause selects the held note."""
    client = ScriptedClient()
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("n")
        (run,) = client.commands(p.Run)
        assert run.pause_at_start is True
        client.push(
            p.Paused(
                run=1, kind="note", node_id="order/load", name="load", held=["order/load"], score=order_tree()
            )
        )
        await pilot.pause()
        assert "paused before order/load" in status_text(app)
        assert screen(app).query_one(MeasureGraph).selected == "order/load"
        await pilot.press("n")
        client.push(
            p.Paused(run=1, kind="fork", node_id="order/enrich", name="enrich", held=["order/enrich"])
        )
        await pilot.pause()
        await pilot.press("o")
        await pilot.press("c")
        kinds = [type(c).__name__ for c in client.sent]
        assert kinds == ["Run", "Step", "StepOver", "Continue"]


async def test_b_toggles_a_breakpoint_on_the_selected_note() -> None:
    """b sends the breakpoints; the next run carries them; the graph marks them."""
    client = ScriptedClient()
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        graph = screen(app).query_one(MeasureGraph)
        graph.focus()
        await pilot.press("down")
        selected = graph.selected
        assert selected is not None
        await pilot.press("b")
        assert client.commands(p.SetBreakpoints)[-1].ids == [selected]
        assert selected in graph.breakpoints
        await pilot.press("r")
        assert client.commands(p.Run)[-1].breakpoints == [selected]
        await pilot.press("b")
        assert client.commands(p.SetBreakpoints)[-1].ids == []


async def test_x_stops_and_replaces_a_worker_that_does_not_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    """x sends Stop; when no run_ended comes in time, the worker is replaced."""
    monkeypatch.setattr(studio_module, "STOP_GRACE", 0.05)
    client = ScriptedClient()
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.press("x")
        await pilot.pause(0.2)
        assert client.commands(p.Stop)
        assert client.starts == 2
        assert "stopped" in status_text(app)


async def test_a_load_failure_is_shown_and_cleared_by_a_good_reload() -> None:
    """An import error shows its message and hint; a reload with good code clears it."""
    failure = p.LoadFailed(
        target="tests",
        error=p.ErrorInfo(
            type="SyntaxError", message="'(' was never closed", traceback="  File x.py, line 2"
        ),
        hint="fix the line and save",
    )
    client = ScriptedClient(load_failure=failure)
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "could not load" in status_text(app)
        note = str(screen(app).query_one("#note").render())
        assert "never closed" in note
        client.load_failure = None
        await screen(app).reload("x.py changed")
        await pilot.pause()
        assert "ready" in status_text(app)
        assert screen(app).query_one(MeasureGraph).drawing is not None


async def test_reload_keeps_breakpoints() -> None:
    """After the worker is replaced (code changed), breakpoints by node id stay."""
    client = ScriptedClient()
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen(app).session.breakpoints.add("order/route")
        await screen(app).reload("order.py changed")
        await pilot.pause()
        await pilot.press("r")
        assert client.commands(p.Run)[-1].breakpoints == ["order/route"]
        assert "order/route" in screen(app).query_one(MeasureGraph).breakpoints


async def test_a_worker_that_dies_mid_run_is_reported() -> None:
    """worker_exited during a run marks it crashed; the studio stays up."""
    client = ScriptedClient()
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        client.push(p.WorkerExited(returncode=7, stderr="Traceback…\nSystemExit: 7\n"))
        await pilot.pause()
        assert "crashed" in status_text(app)
        assert app.is_running


async def test_time_travel_and_merge_view() -> None:
    """Selecting a finished note shows the score after it; a .sync group shows each copy and the merge."""
    client = ScriptedClient()
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        finish_run(client)
        await pilot.pause()
        graph = screen(app).query_one(MeasureGraph)
        graph.select("order/load")
        await pilot.pause()
        tree = screen(app).query_one(ScoreTree)
        assert "score after order/load" in str(tree.root.label)
        graph.select("order/enrich")
        screen(app).query_one("#inspector").active = "tab-parallel"  # type: ignore[attr-defined]
        await pilot.pause()
        assert screen(app).query_one(MergePanel).group == "order/enrich"
        session = screen(app).session
        assert session.run is not None
        assert session.run.merges["order/enrich"].changes == {
            "order/enrich/price": {"total": 12},
            "order/enrich/stock": {"items": ["book", "pen"]},
        }


async def test_input_dialog_checks_and_sets_the_next_runs_score() -> None:
    """i opens the score as JSON; a bad field is refused by name; a good score goes with the next run."""
    client = ScriptedClient()
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        area = app.screen.query_one("#json")
        area.text = json.dumps({"colour": "red"})  # type: ignore[attr-defined]
        await pilot.click("#ok")
        await pilot.pause(0.2)
        assert "'colour'" in str(app.screen.query_one("#error").render())
        area.text = json.dumps({"user": "u-99"})  # type: ignore[attr-defined]
        await pilot.click("#ok")
        await pilot.pause(0.2)
        await pilot.press("r")
        assert client.commands(p.Run)[-1].score == {"user": "u-99"}


async def test_factory_arguments_are_asked_for() -> None:
    """A factory with required parameters asks for them before its first run."""
    client = ScriptedClient(entries=[factory_entry()])
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        app.screen.query_one("#arg-user").value = "u-5"  # type: ignore[attr-defined]
        await pilot.click("#ok")
        await pilot.pause()
        assert client.commands(p.Run)[-1].args == {"user": "u-5"}


async def test_export_dialog_writes_the_diagram(tmp_path: Path) -> None:
    """E asks for a format and a file and writes the diagram there."""
    client = ScriptedClient()
    app = app_with(client)
    target = tmp_path / "order.mmd"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("E")
        await pilot.pause()
        app.screen.query_one("#format").value = "mermaid"  # type: ignore[attr-defined]
        await pilot.pause()
        app.screen.query_one("#path").value = str(target)  # type: ignore[attr-defined]
        await pilot.click("#ok")
        for _ in range(20):
            await pilot.pause(0.05)
            if target.exists():
                break
    assert target.read_text().startswith("flowchart")


async def test_narrow_terminal_stacks_graph_and_inspector() -> None:
    """Under 120 columns the inspector goes under a full-width graph and the timeline hides."""
    client = ScriptedClient()
    app = app_with(client)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        graph = screen(app).query_one(MeasureGraph)
        inspector = screen(app).query_one("#inspector")
        assert graph.size.width > 70
        assert inspector.region.y > graph.region.y
        assert not screen(app).query_one("#timeline").display


async def test_keys_panel_palette_commands_and_quit() -> None:
    """? shows the keys, the palette offers every action, q quits."""
    client = ScriptedClient()
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.query("HelpPanel")
        await pilot.press("question_mark")
        await pilot.pause()
        assert not app.screen.query("HelpPanel")
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {
            "Run",
            "Step",
            "Step over",
            "Continue",
            "Toggle breakpoint",
            "Stop",
            "Edit input",
            "Export diagram",
            "Theme",
        } <= titles
        await pilot.press("q")
        await pilot.pause()
    assert client.closed


async def test_new_note_dialog_scaffolds_next_to_the_module(tmp_path: Path) -> None:
    """N asks for a note; its file and test are written next to the module and shown with the line to add."""
    module = tmp_path / "orders.py"
    module.write_text("# the user's module\n")
    client = ScriptedClient(module_file=str(module))
    app = make_app("orders.py", cwd=tmp_path, client=client, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("N")
        await pilot.pause()
        app.screen.query_one("#name").value = "process-payment"  # type: ignore[attr-defined]
        app.screen.query_one("#retry").value = "3"  # type: ignore[attr-defined]
        await pilot.click("#ok")
        for _ in range(40):
            await pilot.pause(0.05)
            if (tmp_path / "process_payment.py").exists() and isinstance(app.screen, CodeDialog):
                break
        code = (tmp_path / "process_payment.py").read_text()
        assert "@retry(3" in code
        assert isinstance(app.screen, CodeDialog)
        assert "process_payment" in app.screen.hint
        logs = "".join(text for _, text in screen_of(app).session.logs)
        assert "process_payment.py" in logs


def screen_of(app: StudioApp) -> StudioScreen:
    return next(s for s in app.screen_stack if isinstance(s, StudioScreen))


def long_entry(notes: int = 30) -> p.CadenceEntry:
    cadence: Cadence[Order] = Cadence("long", Order())
    for i in range(notes):
        cadence = cadence.then(f"n{i:02d}", load)
    return entry(cadence, "long")


def paused_at(number: int, node: str) -> p.Paused:
    return p.Paused(run=number, kind="note", node_id=node, name=node.rsplit("/", 1)[-1], held=[node])


async def test_a_paused_note_out_of_view_is_centred_and_the_next_ones_need_no_scroll() -> None:
    """Following a run down a long graph: the note it reaches below the view comes to the middle."""
    client = ScriptedClient(entries=[long_entry()])
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        graph = screen(app).query_one(MeasureGraph)
        await pilot.press("n")
        client.push(paused_at(1, "long/n00"))
        await pilot.pause()
        assert graph.scroll_y == 0
        window = graph.scrollable_content_region.height
        below = next(f"long/n{i:02d}" for i in range(30) if graph.drawing.boxes[f"long/n{i:02d}"].y > window)  # type: ignore[union-attr]
        await pilot.press("n")
        client.push(paused_at(1, below))
        await pilot.pause()
        box = graph.drawing.boxes[below]  # type: ignore[union-attr]
        middle = graph.scroll_y + window // 2
        assert abs(box.y + box.height // 2 - middle) <= 1
        scrolled = graph.scroll_y
        following = f"long/n{int(below[-2:]) + 1:02d}"
        await pilot.press("n")
        client.push(paused_at(1, following))
        await pilot.pause()
        assert graph.selected == following
        assert graph.scroll_y == scrolled  # still in view: the graph stays put


async def test_a_step_shows_its_events_with_the_pause_and_says_running_only_when_it_takes_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The events of a step wait for its pause (a while at most); "running" shows if the pause is slow."""
    # long enough to see the screen hold, even on a slow machine
    monkeypatch.setattr(studio_module, "STEP_HOLD", 5.0)
    monkeypatch.setattr(studio_module, "RUNNING_SHOWN_AFTER", 5.0)
    client = ScriptedClient()
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("n")
        client.push(paused_at(1, "order/load"))
        await pilot.pause()
        graph = screen(app).query_one(MeasureGraph)
        await pilot.press("n")
        client.push(event(1, "note_started", "order/load", order_tree()))
        await pilot.pause(0.1)
        assert graph.statuses["order/load"]["status"] == "paused"  # held for the pause
        assert "paused before order/load" in status_text(app)
        client.push(
            event(1, "note_finished", "order/load", order_tree(), status="done", duration=0.001),
            paused_at(1, "order/enrich"),
        )
        await pilot.pause()
        assert graph.statuses["order/load"]["status"] == "done"  # drawn as soon as the pause came
        assert graph.selected == "order/enrich"
        assert "paused before order/enrich" in status_text(app)
        monkeypatch.setattr(studio_module, "STEP_HOLD", 0.01)
        monkeypatch.setattr(studio_module, "RUNNING_SHOWN_AFTER", 0.05)
        await pilot.press("n")  # a note that takes a while: its start shows, and so does "running"
        client.push(event(1, "note_started", "order/enrich/price", order_tree()))
        await pilot.pause(0.2)
        assert graph.statuses["order/enrich/price"]["status"] == "running"
        assert "running" in status_text(app)
