"""What start-up puts off, and that it still works when it comes: the protocol's models are built when
first used (or by ``prepare``, which the worker calls once it has sent its catalog), and garbage
collection, held back while ``cadence-studio TARGET`` starts, resumes once the first graph is on screen
(issue 18)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from cadence_studio import memory
from cadence_studio import protocol as p
from cadence_studio.protocol import messages
from cadence_studio.ui.app import make_app
from cadence_studio.ui.screens import studio_link
from cadence_studio.ui.screens.studio import StudioScreen
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from tests.studio.scripted import ScriptedClient


def test_importing_the_protocol_builds_no_model_and_each_is_built_when_first_used() -> None:
    """In a fresh process: nothing built by the import; a line builds the model its type names; the
    rest are built by prepare(); a line of no known type is refused as before."""
    code = textwrap.dedent(
        """
        import json
        from cadence_studio import protocol as p
        from typing import get_args
        from pydantic import TypeAdapter, ValidationError

        models = {
            model.model_fields["type"].default: model
            for union in (p.Message, p.Command)
            for model in get_args(get_args(union)[0])
        }
        built = lambda: sorted(k for k, model in models.items() if model.__pydantic_complete__)
        out = {"imported": built()}
        ready = p.decode_message(b'{"type":"ready","target":"t","module":"m","file":null,"pid":7}')
        out["ready"] = [type(ready).__name__, ready.pid, built()]
        step = p.decode_command(p.encode(p.Step()))
        out["step"] = [type(step).__name__, built()]
        try:
            p.decode_message(b'{"type":"no_such_message"}')
        except ValidationError as error:
            out["unknown"] = str(error).splitlines()[0]
        getattr(p, "prepare", lambda: None)()  # (absent before models were built lazily)
        out["prepared"] = len(built()) == len(models)
        print(json.dumps(out))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    out = json.loads(done.stdout)
    assert out["imported"] == []
    assert out["ready"] == ["Ready", 7, ["ready"]]
    assert out["step"] == ["Step", ["ready", "step"]]
    assert "validation error" in out["unknown"]
    assert out["prepared"] is True


def test_the_studio_builds_the_models_one_at_a_time_once_the_first_graph_is_shown() -> None:
    """In a fresh process: build_next builds one model per call, a step's first; the studio calls it
    while idle once its first graph is drawn, so the first n finds what it needs built (7 ms of it
    otherwise) and a key pressed meanwhile waits for one model, not all of them."""
    code = textwrap.dedent(
        """
        import asyncio, json
        from typing import get_args
        from cadence_studio import protocol as p
        from cadence_studio.ui.app import make_app
        from cadence_studio.ui.screens.studio_link import StudioLink
        from cadence_studio.ui.widgets.measure_graph import MeasureGraph
        from tests.studio.scripted import ScriptedClient

        models = [m for union in (p.Message, p.Command) for m in get_args(get_args(union)[0])]
        built = lambda: sorted(m.model_fields["type"].default for m in models if m.__pydantic_complete__)
        out = {}
        started = StudioLink._started

        def _started(self):  # the first graph is on screen: what is built by then
            out["at_first"] = len(built())
            out["drawn"] = self.query_one(MeasureGraph).drawing is not None
            started(self)

        StudioLink._started = _started
        ticks = []
        build_next = StudioLink._build_next

        def _build_next(self):  # each tick of the studio's builder: how many models it built
            before = len(built())
            build_next(self)
            ticks.append(len(built()) - before)

        StudioLink._build_next = _build_next

        async def main():
            app = make_app("tests", client=ScriptedClient(), watch=False, history=False)
            async with app.run_test(size=(120, 40)) as pilot:
                for _ in range(200):
                    await pilot.pause(0.01)
                    if len(built()) == len(models):
                        break
            out["ticks"] = ticks
            out["built"] = len(built())

        asyncio.run(main())
        out["total"] = len(models)
        print(json.dumps(out))
        """
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["drawn"] is True
    assert out["at_first"] < out["total"] // 2  # the first screen built only what it used
    assert out["built"] == out["total"]  # every model is built in the end
    assert set(out["ticks"]) <= {0, 1}  # one at a time: a key waits for one model at most
    assert sum(out["ticks"]) == out["total"] - out["at_first"]


def test_build_next_builds_a_steps_models_first_then_the_rest_one_by_one() -> None:
    code = textwrap.dedent(
        """
        import json
        from typing import get_args
        from cadence_studio import protocol as p

        models = [m for union in (p.Message, p.Command) for m in get_args(get_args(union)[0])]
        built = lambda: {m.model_fields["type"].default for m in models if m.__pydantic_complete__}
        order, before = [], built()
        while p.build_next():
            now = built()
            order.append(sorted(now - before))
            before = now
        print(json.dumps({"order": order, "all": len(built()) == len(models), "again": p.build_next()}))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    out = json.loads(done.stdout)
    assert all(len(each) == 1 for each in out["order"])
    first = [each[0] for each in out["order"][:8]]
    assert first == ["step", "run", "run_began", "event", "paused", "run_ended", "continue", "step_over"]
    assert out["all"] is True
    assert out["again"] is False


def message_lines() -> Iterator[bytes]:
    yield p.encode(p.Ready(target="t", module="m", file="/x.py", pid=1))
    yield p.encode(p.Paused(run=1, kind="note", node_id="a/b", name="b", held=["a/b"]))
    yield p.encode(p.Log(stream="stdout", text="hi\n"))
    yield p.encode(p.WorkerExited(returncode=3, stderr="boom"))


@pytest.mark.parametrize("line", list(message_lines()))
def test_a_line_decodes_the_same_by_its_type_and_by_the_union(line: bytes) -> None:
    by_type = p.decode_message(line)
    assert by_type == TypeAdapter(p.Message).validate_json(line)
    # "type" need not come first: such a line goes through the union
    data = json.loads(line)
    reordered = json.dumps({**{k: v for k, v in data.items() if k != "type"}, "type": data["type"]})
    assert p.decode_message(reordered) == by_type


def test_a_bad_line_of_a_known_type_is_still_refused() -> None:
    with pytest.raises(ValidationError):
        p.decode_message(b'{"type":"ready","target":"t"}')  # module and pid missing
    with pytest.raises(ValidationError):
        p.decode_command(b'{"type":"run","target":"x","extra":1}')  # extra="forbid"


@pytest.fixture
def held() -> Iterator[None]:
    """A start-up's hold on garbage collection; the test process is left as it was."""
    assert gc.isenabled()
    memory.hold_collection()
    try:
        yield
    finally:
        memory.release_collection()
        gc.unfreeze()
        gc.enable()


async def test_collection_resumes_once_the_first_graph_is_on_screen(held: None) -> None:
    assert not gc.isenabled()
    app = make_app("tests", client=ScriptedClient(), watch=False, history=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StudioScreen)
        assert app.screen.query_one(MeasureGraph).drawing is not None
        await pilot.pause()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0  # what start-up made is left out of later collections


async def test_collection_resumes_even_when_no_catalog_comes(
    held: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that never answers (a module that hangs on import): collection resumes after a while."""

    class Silent(ScriptedClient):
        async def start(self) -> None:
            self.starts += 1

    monkeypatch.setattr(studio_link, "SETTLE_AFTER", 0.2)
    app = make_app("tests", client=Silent(), watch=False, history=False)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(100):  # the time-out is 0.2 s; a busy machine may take longer to get there
            await pilot.pause(0.05)
            if gc.isenabled():
                break
        assert gc.isenabled()
        assert isinstance(app.screen, StudioScreen)
        assert app.screen.query_one(MeasureGraph).drawing is None  # no catalog came


async def test_the_files_are_watched_from_when_the_first_graph_is_shown(tmp_path: Path) -> None:
    """The watcher (it imports watchfiles) starts after the first graph, and a save still reloads."""
    app = make_app("tests", cwd=tmp_path, client=ScriptedClient(), watch=True, history=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, StudioScreen)
        for _ in range(100):
            await pilot.pause(0.05)
            if any(w.group == "watch" for w in app.workers):
                break
        assert screen.query_one(MeasureGraph).drawing is not None
        assert [w.group for w in app.workers if w.group == "watch"] == ["watch"]
        client = screen.client
        assert isinstance(client, ScriptedClient)
        starts = client.starts
        await pilot.pause(0.3)  # awatch sets itself up
        (tmp_path / "flow.py").write_text("x = 1\n")
        for _ in range(100):
            await pilot.pause(0.05)
            if client.starts > starts:
                break
        assert client.starts > starts  # the save started a new worker


def test_every_line_starts_with_its_type_so_it_is_decoded_by_that_model_alone() -> None:
    """A model whose ``type`` is not its first field would be decoded through the union (every model
    of it built at once): keep ``type`` first."""
    for union in (p.Command, p.Message):
        for model in messages._models(union).values():
            assert next(iter(model.model_fields)) == "type", model.__name__


def test_the_first_screen_imports_no_dialog_nor_what_only_they_use() -> None:
    """What the UI imports before its first frame: not the dialogs (TextArea), the run comparison, the
    scaffolding, the project config, ctypes or watchfiles; each is imported when first used (the dialog
    tests open every one of them)."""
    later = (
        "textual.widgets._text_area",
        "cadence_studio.ui.screens.dialogs",
        "cadence_studio.ui.screens.history_dialog",
        "cadence_studio.ui.screens.watch_dialog",
        "cadence_studio.store.compare",
        "cadence_studio.scaffold",
        "cadence_studio.protocol.config",
        "ctypes",
        "watchfiles",
    )
    code = (
        "import sys, cadence_studio.ui.app, cadence_studio.ui.client\n"
        f"print(','.join(m for m in {later!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


async def test_no_frame_of_the_studio_is_computed_and_thrown_away_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Textual holds back every frame while the app mounts (a batch); the studio's screen, pushed from
    the app's on_mount, was laid out and rendered in that batch, thrown away, and rendered again. It
    is pushed right after, so that its first frame is the one shown."""
    from textual.app import App

    thrown: list[str] = []
    display = App._display

    def counted(self: App[None], screen: Any, renderable: Any) -> None:
        if renderable is not None and self._batch_count:
            thrown.append(type(screen).__name__)
        display(self, screen, renderable)

    monkeypatch.setattr(App, "_display", counted)
    app = make_app("tests", client=ScriptedClient(), watch=False, history=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StudioScreen)
        assert app.screen.query_one(MeasureGraph).drawing is not None
        await pilot.pause(0.1)
    assert "StudioScreen" not in thrown
