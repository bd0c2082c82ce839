"""``cadence-studio``'s commands (Typer): open the studio on a module, or use its headless twins.

:mod:`.studio` is the entry point; it opens the studio on a TARGET without importing this module."""

from __future__ import annotations

import asyncio
import json
import math
import sys
import threading
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import StudioError
from ..protocol.config import ConfigError, load_config
from ..protocol.target import parse_target
from ..protocol.watches import Watch, watch_problem
from ..store.history import History
from ._options import CwdOpt, MetricsHostOpt, MetricsPortOpt, NamespaceOpt, TemporalOpt, parse_pairs
from .debug_commands import freeze_command, source_command
from .headless import RunOptions, export, list_cadences, run_cadence
from .history_commands import list_history, show_history
from .insight_commands import add_insight_commands
from .plugin_commands import PluginsTargetArg, add_plugin_commands, no_target_args
from .temporal_commands import TaskQueueOpt, project_config, run_on_backend, schedule_app, worker_command
from .webhook_commands import add_webhook_commands

__all__ = ["app", "run_commands"]

app = typer.Typer(
    name="cadence-studio",
    help="See, run and debug Cadence cadences. `cadence-studio TARGET` opens the terminal studio.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)

TargetArg = Annotated[
    str,
    typer.Argument(
        help="A module (myapp.cadences) or file (examples/shop.py), optionally with :name; "
        "@ for the installed plugins, @NAME for one of them."
    ),
]


class Format(StrEnum):
    mermaid = "mermaid"
    dot = "dot"
    svg = "svg"
    png = "png"


@app.command("open")
def open_studio(target: PluginsTargetArg = "@", cwd: CwdOpt = Path(".")) -> None:
    """Open the terminal studio on TARGET (the same as `cadence-studio TARGET`); `cadence-studio` alone
    opens it on the installed plugins.

    Example: cadence-studio examples/shop.py
    """
    from ..ui.app import make_app

    make_app(target, cwd=cwd).run()


@app.command("serve")
def serve_command(
    target: TargetArg,
    cwd: CwdOpt = Path("."),
    host: Annotated[
        str, typer.Option(help="Address to listen on; the default lets only this machine connect.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the studio on TARGET in a web browser (textual-serve): one studio per browser tab.

    Example: cadence-studio serve examples/shop.py --port 8000, then open http://127.0.0.1:8000
    """
    from .serve import port_free, serve

    try:
        parse_target(target)
    except StudioError as error:
        raise typer.BadParameter(str(error), param_hint="TARGET") from None
    why = port_free(host, port)
    if why is not None:
        print(f"error: cannot serve: {why}", file=sys.stderr)
        raise typer.Exit(2)
    serve(target, cwd=cwd, host=host, port=port)


@app.command("list")
def list_command(
    target: Annotated[str | None, typer.Argument(help=TargetArg.__metadata__[0].help)] = None,
    installed: Annotated[
        bool,
        typer.Option(
            "--installed",
            help="The installed plugins instead (entry points of `cadence.cadences`): name, package, "
            "value, kind, cadences, errors; exit 1 when one is broken.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    cwd: CwdOpt = Path("."),
) -> None:
    """List the cadences of TARGET and their measures, or (--installed, or no TARGET) the installed plugins.

    Example: cadence-studio list examples/shop.py

    Example: cadence-studio list --installed
    """
    if target is not None and installed:
        print(f"error: give a TARGET ({target!r}) or --installed, not both", file=sys.stderr)
        raise typer.Exit(2)
    if target is None:
        from .plugin_commands import list_installed

        raise typer.Exit(asyncio.run(list_installed(cwd=cwd, as_json=as_json)))
    raise typer.Exit(asyncio.run(list_cadences(target, cwd=cwd, as_json=as_json)))


add_plugin_commands(app)
add_webhook_commands(app)


@app.command("run")
def run_command(
    target: Annotated[
        str | None,
        typer.Argument(
            help="A module (myapp.cadences) or file (examples/shop.py), optionally with :name; "
            "not needed with --resume."
        ),
    ] = None,
    arg: Annotated[
        list[str] | None, typer.Option("--arg", help="Factory argument NAME=VALUE (JSON or text).")
    ] = None,
    score: Annotated[str | None, typer.Option("--score", help="The initial score as a JSON object.")] = None,
    break_at: Annotated[
        list[str] | None, typer.Option("--break-at", help="Print the score before this note id, then go on.")
    ] = None,
    watch: Annotated[
        list[str] | None,
        typer.Option(
            "--watch", metavar="FIELD", help="Print each note that changes this score field, old → new."
        ),
    ] = None,
    break_when: Annotated[
        list[str] | None,
        typer.Option(
            "--break-when", metavar="EXPR", help="Print where this expression over `score` turns true."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Events as JSON lines, then the result.")] = False,
    metrics_port: MetricsPortOpt = None,
    metrics_host: MetricsHostOpt = "127.0.0.1",
    metrics_linger: Annotated[
        float,
        typer.Option(
            "--metrics-linger",
            min=0,
            help="Keep serving metrics this many seconds after the run (inf: until Ctrl-C).",
        ),
    ] = 0.0,
    no_history: Annotated[
        bool,
        typer.Option(
            "--no-history", help="Do not record (nor checkpoint) the run in the project's .cadence/."
        ),
    ] = False,
    resume: Annotated[
        int | None,
        typer.Option(
            "--resume",
            metavar="RUN_ID",
            help="Go on with a run whose worker died, was stopped or failed, from its last completed note.",
        ),
    ] = None,
    rerun_from: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="RUN_ID:NODE_ID",
            help="Re-run from a note of a recorded run, reusing what came before it (with --score: edited).",
        ),
    ] = None,
    stall_ms: Annotated[
        float,
        typer.Option(
            "--stall-ms",
            min=0,
            help="Warn about an async def note that blocks the event loop this long (ms); 0: never.",
        ),
    ] = 50.0,
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            metavar="local|temporal",
            help="Where the run goes (default: CADENCE_BACKEND, [tool.cadence] backend, else local).",
        ),
    ] = None,
    temporal: TemporalOpt = None,
    namespace: NamespaceOpt = None,
    task_queue: TaskQueueOpt = None,
    wait: Annotated[
        float | None,
        typer.Option(
            "--wait",
            min=0,
            metavar="SECONDS",
            help="On Temporal: give up (exit 1) if no worker takes the run within SECONDS; "
            "default: keep waiting.",
        ),
    ] = None,
    cwd: CwdOpt = Path("."),
) -> None:
    """Run a cadence headlessly; exit code 0 only when it succeeds. The run is recorded in the
    project's run history (.cadence/ in --cwd): see `cadence-studio history`. With --backend temporal
    it runs as a Temporal workflow (a `cadence-studio worker` runs the notes) and prints the same lines.

    Example: cadence-studio run examples/shop.py:create_checkout_cadence --arg user_id=u-1 --json

    Example: cadence-studio run examples/shop.py:checkout --metrics-port 9464 --metrics-linger 30

    Example: cadence-studio run --resume 12    (or: run examples/shop.py:checkout --from 12:checkout/charge)

    Example: cadence-studio run examples/shop.py:checkout --backend temporal --temporal localhost:7233
    """
    config = project_config(
        cwd, backend=backend, temporal=temporal, namespace=namespace, task_queue=task_queue
    )
    rerun = _rerun_point(rerun_from)
    if resume is not None and (rerun is not None or score is not None or arg or break_at):
        print(
            "error: --resume goes on with the run as it was: drop --from, --score, --arg and --break-at",
            file=sys.stderr,
        )
        raise typer.Exit(2)
    if target is None and resume is None:
        print(
            "error: missing TARGET (a module or file, e.g. examples/shop.py:checkout), or --resume RUN_ID",
            file=sys.stderr,
        )
        raise typer.Exit(2)
    try:
        initial = json.loads(score) if score is not None else None
    except json.JSONDecodeError as error:
        raise typer.BadParameter(f"not JSON: {error}", param_hint="--score") from None
    if initial is not None and not isinstance(initial, dict):
        raise typer.BadParameter("the score must be a JSON object of field values", param_hint="--score")
    options = RunOptions(
        parse_pairs(arg or []),
        initial,
        list(break_at or []),
        as_json,
        resume=resume,
        rerun=rerun,
        watches=_watches(watch or [], break_when or []),
        stall_ms=stall_ms,
    )
    target = target or ""
    if config.backend == "temporal":
        local_only = {
            "--resume": resume is not None,
            "--from": rerun is not None,
            "--break-at": bool(break_at),
            "--metrics-port": metrics_port is not None,
            "--watch": bool(watch),
            "--break-when": bool(break_when),
        }
        raise typer.Exit(run_on_backend(target, options, config, cwd, wait, local_only))
    history = None if no_history else History(cwd)
    if metrics_port is None:
        raise typer.Exit(asyncio.run(run_cadence(target, options, cwd=cwd, history=history)))
    from .metrics import MetricsServer

    try:
        metrics = MetricsServer(metrics_port, host=metrics_host)
    except StudioError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(2) from None
    try:
        print(f"metrics: {metrics.url}", file=sys.stderr, flush=True)
        code = asyncio.run(run_cadence(target, options, cwd=cwd, on_event=metrics.observe, history=history))
        if metrics_linger > 0:
            more = "until Ctrl-C" if math.isinf(metrics_linger) else f"for {metrics_linger:g} s"
            try:  # from before the line is out: a Ctrl-C right after it still ends the linger cleanly
                print(f"serving metrics at {metrics.url} {more}", file=sys.stderr, flush=True)
                threading.Event().wait(None if math.isinf(metrics_linger) else metrics_linger)
            except KeyboardInterrupt:
                pass
    finally:
        metrics.close()
    raise typer.Exit(code)


def _watches(fields: list[str], expressions: list[str]) -> list[Watch]:
    """``--watch`` and ``--break-when`` as watches; a broken one (exit 2) before any worker starts."""
    watches = [Watch(kind="field", text=f) for f in fields] + [
        Watch(kind="expr", text=e) for e in expressions
    ]
    for item in watches:
        problem = watch_problem(item)
        if problem is not None:
            flag = "--watch" if item.kind == "field" else "--break-when"
            print(f"error: {flag}: {problem}", file=sys.stderr)
            raise typer.Exit(2)
    return watches


def _rerun_point(text: str | None) -> tuple[int, str] | None:
    """``--from RUN_ID:NODE_ID`` as (run number, node id)."""
    if text is None:
        return None
    run, sep, node_id = text.partition(":")
    if not sep or not run.strip().isdigit() or not node_id.strip():
        print(
            f"error: --from {text!r}: give RUN_ID:NODE_ID, e.g. --from 12:checkout/charge "
            "(`cadence-studio history` lists the runs, `history show RUN_ID` their notes)",
            file=sys.stderr,
        )
        raise typer.Exit(2)
    return int(run), node_id.strip()


@app.command("export")
def export_command(
    target: TargetArg,
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    fmt: Annotated[
        Format | None, typer.Option("--format", "-f", help="Default: from the file's extension.")
    ] = None,
    with_run: Annotated[
        bool, typer.Option("--with-run", help="Run it first; colour nodes by status.")
    ] = False,
    cwd: CwdOpt = Path("."),
) -> None:
    """Write a diagram of a cadence as Mermaid, DOT, SVG or PNG.

    Example: cadence-studio export examples/shop.py:checkout --format svg -o checkout.svg
    """
    raise typer.Exit(
        asyncio.run(export(target, fmt.value if fmt else None, output, cwd=cwd, with_run=with_run))
    )


history_app = typer.Typer(
    help="The project's run history: every run of the studio and of `cadence-studio run`, kept in "
    ".cadence/history.sqlite3.",
    no_args_is_help=False,
    invoke_without_command=True,
)
app.add_typer(history_app, name="history")
add_insight_commands(history_app)


@history_app.callback()
def history_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many runs, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    temporal: TemporalOpt = None,
    namespace: NamespaceOpt = None,
    cwd: CwdOpt = Path("."),
) -> None:
    """List the newest recorded runs; `history show ID` prints one. With --temporal, the cadence runs
    on that Temporal server instead.

    Example: cadence-studio history -n 5

    Example: cadence-studio history --temporal localhost:7233
    """
    if ctx.invoked_subcommand is None:
        if temporal is not None:
            from .temporal_history import list_temporal

            raise typer.Exit(
                list_temporal(temporal, namespace or _namespace(cwd), limit=limit, as_json=as_json)
            )
        raise typer.Exit(list_history(History(cwd), limit=limit, as_json=as_json))


@history_app.command("show")
def history_show(
    run_id: Annotated[
        str,
        typer.Argument(
            help="The run's number, as `cadence-studio history` lists it (with --temporal: its workflow id)."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Events as JSON lines, then the result.")] = False,
    temporal: TemporalOpt = None,
    namespace: NamespaceOpt = None,
    cwd: CwdOpt = Path("."),
) -> None:
    """Print a recorded run: its input, every event and how it ended. With --temporal, a cadence run
    of that Temporal server, read from its workflow history.

    Example: cadence-studio history show 12

    Example: cadence-studio history show checkout-1a2b3c4d5e6f --temporal localhost:7233
    """
    if temporal is not None:
        from .temporal_history import show_temporal

        raise typer.Exit(show_temporal(temporal, namespace or _namespace(cwd), run_id, as_json=as_json))
    if not run_id.isdigit():
        print(
            f"error: {run_id!r} is not a run number (`cadence-studio history` lists them); "
            "a Temporal workflow id needs --temporal HOST:PORT",
            file=sys.stderr,
        )
        raise typer.Exit(2)
    raise typer.Exit(show_history(History(cwd), int(run_id), as_json=as_json))


def _namespace(cwd: Path) -> str:
    """The project's Temporal namespace ([tool.cadence] namespace, CADENCE_NAMESPACE), or "default"."""

    try:
        return load_config(cwd).namespace
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(2) from None


@app.command("replay")
def replay_command(
    history_file: Annotated[
        Path,
        typer.Argument(
            metavar="HISTORY.json",
            help="A workflow history: `temporal workflow show --workflow-id ID --output json`, or the "
            "Temporal UI's download.",
        ),
    ],
    target: TargetArg,
    as_json: Annotated[bool, typer.Option("--json", help="Events as JSON lines, then the result.")] = False,
    cwd: CwdOpt = Path("."),
) -> None:
    """Print a cadence run from its exported Temporal history (offline), then replay the history
    against the current code of TARGET and report any non-determinism, naming the note; exit 1 then.

    TARGET's module is imported (in a process of its own) to build its cadences' plans; no note runs.

    Example: cadence-studio replay checkout-run.json examples/shop.py
    """
    from .replay import replay_history

    raise typer.Exit(replay_history(history_file, target, cwd=cwd, as_json=as_json))


app.command("worker")(worker_command)
app.command("source")(source_command)
app.command("freeze")(freeze_command)
app.add_typer(schedule_app, name="schedule")


def _commands() -> set[str]:
    """The names of the commands and command groups (anything else first is a TARGET)."""
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    return names | {g.name or "" for g in app.registered_groups}


_OPEN_OPTIONS = {"--cwd"}  # the options of `open` that take a value


def _opens_a_target(args: list[str]) -> bool:
    """Whether ``args`` are `open`'s without the command: a TARGET first, or after `open`'s options."""
    rest = iter(args)
    for arg in rest:
        if arg in _OPEN_OPTIONS:
            next(rest, None)
        elif not arg.startswith("-"):
            return arg not in _commands()
        elif not arg.startswith("--cwd="):
            return False
    return False


def run_commands(args: list[str]) -> None:
    """`cadence-studio TARGET` means `cadence-studio open TARGET`; `cadence-studio` alone opens the
    installed plugins (or prints the help when there are none)."""
    args = list(args)
    if not args:
        args = no_target_args()
    if _opens_a_target(args):
        args.insert(0, "open")
    app(args=args, prog_name="cadence-studio")
