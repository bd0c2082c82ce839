"""The studio lists the Temporal server's cadence runs beside the local ones and opens one like a past
run: graph statuses, retries, the timeout's fallback and the score after every note."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from examples import shop
from textual.pilot import Pilot
from textual.widgets import Label, OptionList

from cadence_studio import protocol as p
from cadence_studio.store.history import History
from cadence_studio.ui.app import StudioApp, make_app
from cadence_studio.ui.screens.history_dialog import HistoryDialog
from cadence_studio.worker.values import value_tree
from tests.studio.scripted import ScriptedClient
from tests.studio.test_dialogs import cut_off
from tests.temporal.conftest import free_port
from tests.temporal.read.conftest import ShopRun

SHOTS = Path(os.environ.get("CADENCE_SHOTS") or "/nonexistent")  # set it to a folder to keep screenshots


def shoot(app: StudioApp, name: str) -> None:
    if SHOTS.is_dir():
        app.save_screenshot(filename=f"temporal-{name}.svg", path=str(SHOTS))


async def until(pilot: Pilot[None], done: Callable[[], bool], what: str) -> None:
    for _ in range(600):  # a wait, not a speed check: up to 30 s on a loaded machine
        if done():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"{what} never happened")


def project(folder: Path, address: str, *, local: bool = True) -> Path:
    """A project naming the Temporal server, with one local run in its history (unless not ``local``)."""
    (folder / "pyproject.toml").write_text(f'[tool.cadence]\ntemporal = "{address}"\n')
    if not local:
        return folder
    recorder = History(folder).recorder("examples/shop.py")
    recorder.observe(p.RunBegan(run=1, target="checkout", graph=shop.checkout.describe()))
    recorder.observe(p.RunEnded(run=1, status="done", duration=0.2))
    recorder.close()
    return folder


def studio(folder: Path) -> StudioApp:
    """The studio on shop.py's checkout (a scripted worker: the UI process imports no user code)."""
    checkout = p.CadenceEntry(
        name="checkout",
        kind="cadence",
        graph=shop.checkout.describe(),
        score_type="shop.CheckoutScore",
        score=value_tree(shop.checkout.get_score()),
    )
    return make_app("examples/shop.py", cwd=folder, client=ScriptedClient(entries=[checkout]), watch=False)


def ids(dialog: HistoryDialog) -> list[str | None]:
    options = dialog.query_one("#runs", OptionList)
    return [options.get_option_at_index(i).id for i in range(options.option_count)]


async def test_the_dialog_lists_temporal_runs_and_opens_one(shop_run: ShopRun, tmp_path: Path) -> None:
    """h lists the local run, then the server's; Enter on the Temporal run shows it like a past run."""
    app = studio(project(tmp_path, shop_run.address))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryDialog), "the history dialog")
        dialog = app.screen
        assert isinstance(dialog, HistoryDialog)
        wanted = f"t:{shop_run.workflow_id}"
        await until(pilot, lambda: wanted in ids(dialog), "the Temporal run listed")
        assert ids(dialog)[0] == "1"  # the local run first, still there
        assert "cadence run" in str(dialog.query_one("#temporal", Label).render())
        shoot(app, "dialog-160x48")
        dialog.query_one("#runs", OptionList).highlighted = ids(dialog).index(wanted)
        await pilot.press("enter")
        screen = app.screen
        await until(
            pilot,
            lambda: (
                getattr(screen, "session", None) is not None
                and screen.session.run is not None
                and (screen.session.run.recorded or "").startswith("from Temporal")
            ),
            "the run opened",
        )  # type: ignore[attr-defined]
        run = screen.session.run  # type: ignore[attr-defined]
        shoot(app, "run-160x48")
    assert run.status == "done"
    statuses = run.statuses()
    assert statuses["checkout/payment/authorize_payment"]["attempts"] == 2
    assert statuses["checkout/pricing/quote_shipping"]["fallback"] is True
    assert statuses["checkout/risk_review/true"]["status"] == "skipped"
    notes = [n["id"] for n in _notes(shop.checkout.describe())]
    assert [n for n in notes if n not in run.after] == ["checkout/risk_review/true/verify_3ds"]
    after = {key: child["r"] for key, child in run.after["checkout/pricing/quote_shipping"]["c"]}
    assert after["shipping"] == "3900"
    assert [key for key, _ in run.score["c"]][:3] == ["user_id", "cart_id", "order_id"]  # declared order
    assert any("attempt 1 failed: gateway dropped" in text for _, text, _ in run.timeline)


def _opened(screen: object) -> bool:
    """Whether ``screen`` shows a run opened from Temporal."""
    run = getattr(getattr(screen, "session", None), "run", None)
    return run is not None and (run.recorded or "").startswith("from Temporal workflow")


def _notes(node: dict[str, object]) -> list[dict[str, object]]:
    children = node.get("children") or []
    assert isinstance(children, list)
    own = [node] if node.get("kind") == "note" else []
    return own + [n for child in children for n in _notes(child)]


async def test_the_dialog_fits_at_80x24_with_temporal_runs(shop_run: ShopRun, tmp_path: Path) -> None:
    """80×24: the notice and the hint stay whole with Temporal runs listed."""
    app = studio(project(tmp_path, shop_run.address))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryDialog), "the history dialog")
        dialog = app.screen
        assert isinstance(dialog, HistoryDialog)
        await until(pilot, lambda: bool(dialog.temporal_runs), "the Temporal runs listed")
        await pilot.pause()
        shoot(app, "dialog-80x24")
        assert cut_off(dialog) == []
        wanted = f"t:{shop_run.workflow_id}"
        dialog.query_one("#runs", OptionList).highlighted = ids(dialog).index(wanted)
        await pilot.press("enter")
        screen = app.screen
        await until(pilot, lambda: _opened(screen), "the run opened")
        await pilot.pause()
        shoot(app, "run-80x24")


async def test_a_down_server_is_one_line_and_local_runs_stay(tmp_path: Path) -> None:
    """No server at the address: one line says so; the local run is listed and opens as before."""
    address = f"127.0.0.1:{free_port()}"
    app = studio(project(tmp_path, address))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryDialog), "the history dialog")
        dialog = app.screen
        assert isinstance(dialog, HistoryDialog)
        notice = dialog.query_one("#temporal", Label)
        await until(pilot, lambda: "no Temporal server answers" in str(notice.render()), "the notice")
        shoot(app, "down-160x48")
        assert (
            str(notice.render()) == f"Temporal: no Temporal server answers at {address} (Connection refused)"
        )
        assert notice.region.height == 1
        assert ids(dialog) == ["1"]


async def test_with_no_local_run_the_keys_work_on_the_temporal_runs(
    shop_run: ShopRun, tmp_path: Path
) -> None:
    """No local run yet: the first Temporal run is highlighted and the list has focus, so Enter opens it."""
    app = studio(project(tmp_path, shop_run.address, local=False))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryDialog), "the history dialog")
        dialog = app.screen
        assert isinstance(dialog, HistoryDialog)
        await until(pilot, lambda: bool(dialog.temporal_runs), "the Temporal runs listed")
        options = dialog.query_one("#runs", OptionList)
        assert options.highlighted == 0
        assert ids(dialog)[0] == f"t:{dialog.temporal_runs[0].workflow_id}"
        assert options.has_focus
