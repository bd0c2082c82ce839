"""The `cadence-studio` commands that reach Temporal: the backend choice of `run`, and `schedule`.

Settings come from :mod:`cadence_studio.protocol.config` (flags > ``CADENCE_*`` > ``[tool.cadence]``);
``temporalio`` (the extra ``temporal``) is imported only when a command needs it.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from ..protocol.config import ConfigError, ProjectConfig, load_config
from ._options import CwdOpt, NamespaceOpt, TemporalOpt, parse_pairs
from .headless import RunOptions
from .plugin_commands import PluginsTargetArg

__all__ = ["TaskQueueOpt", "project_config", "run_on_backend", "schedule_app", "worker_command"]

TargetArg = Annotated[
    str, typer.Argument(help="A module (myapp.cadences) or file (examples/shop.py), with :name.")
]

TaskQueueOpt = Annotated[
    str | None, typer.Option("--task-queue", help="Task queue the workers listen on (default: cadence).")
]


def project_config(cwd: Path, **flags: str | None) -> ProjectConfig:
    """The project's settings (flags > environment > pyproject.toml); a bad one is exit 2."""
    try:
        return load_config(cwd, flags=flags)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(2) from None


def run_on_backend(
    target: str,
    options: RunOptions,
    config: ProjectConfig,
    cwd: Path,
    wait: float | None,
    local_only: dict[str, bool],
) -> int:
    """A run whose backend is temporal: refuse local-only options, then start and follow it."""
    given = [flag for flag, used in local_only.items() if used]
    if given:
        print(
            f"error: {', '.join(given)} only work on a local run (the backend is temporal, from "
            f"{config.source('backend')}): drop them, or add --backend local",
            file=sys.stderr,
        )
        return 2
    from .temporal_common import has_temporalio

    if not has_temporalio(sys.stderr):
        return 2
    from .temporal_run import run_on_temporal

    _leave(asyncio.run(run_on_temporal(target, options, config, cwd=cwd, wait=wait)))


def worker_command(
    target: PluginsTargetArg = "@",
    temporal: TemporalOpt = None,
    namespace: NamespaceOpt = None,
    task_queue: TaskQueueOpt = None,
    heartbeat_timeout: Annotated[
        float,
        typer.Option(
            "--heartbeat-timeout",
            min=0.1,
            help="Seconds without a heartbeat after which a note's worker is lost.",
        ),
    ] = 2.0,
    sticky_timeout: Annotated[
        float,
        typer.Option(
            "--sticky-timeout",
            min=0.1,
            help="Seconds a run waits for this worker before another may take it.",
        ),
    ] = 1.0,
    cwd: CwdOpt = Path("."),
) -> None:
    """Serve TARGET's cadences (and their child cadences) on Temporal until Ctrl-C or SIGTERM; without
    TARGET, the enabled installed plugins' (`cadence-studio list --installed`).

    This process imports TARGET and runs its notes as Temporal activities (needs
    pip install 'cadence-studio[temporal]'). The server, namespace and task queue come from the flags,
    then CADENCE_TEMPORAL / CADENCE_NAMESPACE / CADENCE_TASK_QUEUE, then [tool.cadence] in
    pyproject.toml, else localhost:7233, 'default' and 'cadence'.

    Example: cadence-studio worker examples/shop.py --temporal localhost:7233
    """
    config = project_config(cwd, temporal=temporal, namespace=namespace, task_queue=task_queue)
    # This command's process is a worker by design (it imports the user's module), not the UI's:
    # pyproject's import contract lets this one import through.
    from .temporal_worker import exit_process, serve

    exit_process(
        serve(
            target,
            config.address,
            namespace=config.namespace,
            task_queue=config.task_queue,
            cwd=cwd,
            heartbeat_timeout=heartbeat_timeout,
            sticky_timeout=sticky_timeout,
        )
    )


schedule_app = typer.Typer(
    help="Start cadences on a timetable with Temporal Schedules (cron); a `cadence-studio worker` runs them.",
    no_args_is_help=True,
)


@schedule_app.command("create")
def schedule_create(
    target: TargetArg,
    cron: Annotated[str, typer.Option("--cron", help='A cron expression, e.g. "*/5 * * * *".')],
    schedule_id: Annotated[
        str | None, typer.Option("--id", help="The schedule's id (default: the cadence's name and a suffix).")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="A field of the score the runs start on, FIELD=VALUE (JSON or text)."),
    ] = None,
    arg: Annotated[
        list[str] | None, typer.Option("--arg", help="Factory argument NAME=VALUE (JSON or text).")
    ] = None,
    now: Annotated[bool, typer.Option("--now", help="Also start one run right away.")] = False,
    temporal: TemporalOpt = None,
    namespace: NamespaceOpt = None,
    task_queue: TaskQueueOpt = None,
    cwd: CwdOpt = Path("."),
) -> None:
    """Create a schedule that runs TARGET's cadence on Temporal at every CRON time.

    Example: cadence-studio schedule create examples/shop.py:checkout --cron "*/5 * * * *" --set cart_id=c-9
    """
    config = project_config(cwd, temporal=temporal, namespace=namespace, task_queue=task_queue)
    score = parse_pairs(set_ or [], flag="--set") or None
    options = RunOptions(parse_pairs(arg or []), score, [], as_json=False)
    if not _has_temporalio():
        raise typer.Exit(2)
    from .schedule_commands import create_schedule

    _leave(
        asyncio.run(create_schedule(target, cron, options, config, cwd=cwd, schedule_id=schedule_id, now=now))
    )


@schedule_app.command("list")
def schedule_list(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    temporal: TemporalOpt = None,
    namespace: NamespaceOpt = None,
    cwd: CwdOpt = Path("."),
) -> None:
    """List the schedules that run cadences: id, cadence, cron, next and last run.

    Example: cadence-studio schedule list --temporal localhost:7233
    """
    config = project_config(cwd, temporal=temporal, namespace=namespace)
    if not _has_temporalio():
        raise typer.Exit(2)
    from .schedule_commands import list_schedules

    _leave(asyncio.run(list_schedules(config, as_json=as_json)))


@schedule_app.command("delete")
def schedule_delete(
    schedule_id: Annotated[
        str, typer.Argument(metavar="ID", help="The schedule's id, as `schedule list` shows.")
    ],
    temporal: TemporalOpt = None,
    namespace: NamespaceOpt = None,
    cwd: CwdOpt = Path("."),
) -> None:
    """Delete a schedule (runs it started go on).

    Example: cadence-studio schedule delete checkout-nightly
    """
    config = project_config(cwd, temporal=temporal, namespace=namespace)
    if not _has_temporalio():
        raise typer.Exit(2)
    from .schedule_commands import delete_schedule

    _leave(asyncio.run(delete_schedule(config, schedule_id)))


def _leave(code: int) -> NoReturn:
    """End a command that used a Temporal client: free the client now, not during the interpreter's
    teardown, where the SDK's runtime aborts Python ("PyGILState_Release ... finalizing",
    temporalio/sdk-python#300; every time here without this)."""
    gc.collect()
    raise typer.Exit(code)


def _has_temporalio() -> bool:
    from .temporal_common import has_temporalio

    return has_temporalio(sys.stderr)
