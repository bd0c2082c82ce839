"""``cadence-studio webhook`` and ``cadence-studio export-n8n``: cadences over HTTP, and an n8n workflow
that calls them."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from ._options import CwdOpt, MetricsHostOpt, MetricsPortOpt
from .plugin_commands import PluginsTargetArg

__all__ = ["add_webhook_commands"]


def webhook_command(
    target: PluginsTargetArg = "@",
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. Anything but this machine (127.0.0.1, ::1, localhost) needs a token."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: a free one).")] = 8000,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="CADENCE_WEBHOOK_TOKEN",
            show_envvar=True,
            help="Every route then needs 'Authorization: Bearer TOKEN'.",
        ),
    ] = None,
    metrics_port: MetricsPortOpt = None,
    metrics_host: MetricsHostOpt = "127.0.0.1",
    no_history: Annotated[
        bool, typer.Option("--no-history", help="Do not record the runs in the project's .cadence/.")
    ] = False,
    cwd: CwdOpt = Path("."),
) -> None:
    """Serve TARGET's cadences over HTTP: POST /cadences/NAME with the initial score as a JSON body
    (none: the cadence's own), a factory's arguments as query parameters; the answer is the final
    score and the run's status. GET /cadences lists them with their schemas, /docs shows them.

    This process imports TARGET and runs the cadences (needs the fastapi extra: cadence-studio\\[fastapi]);
    each run is recorded in the project's run history (cadence-studio history). Without TARGET it
    serves the installed plugins the project has not disabled.

    Example: cadence-studio webhook examples/shop.py --port 8000

    Example: CADENCE_WEBHOOK_TOKEN=s3cret cadence-studio webhook myapp.cadences --host 0.0.0.0
    """
    # This command's process runs the user's code by design (it is the service), not the UI's:
    # pyproject's import contract lets this one import through.
    from .webhook import serve

    raise typer.Exit(
        serve(
            target,
            host=host,
            port=port,
            token=token,
            cwd=cwd,
            record=not no_history,
            metrics_port=metrics_port,
            metrics_host=metrics_host,
        )
    )


def export_n8n_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="The workflow file to write (JSON).")],
    target: PluginsTargetArg = "@",
    url: Annotated[
        str, typer.Option("--url", help="Where the webhook server (cadence-studio webhook) listens.")
    ] = "http://127.0.0.1:8000",
    token_env: Annotated[
        bool,
        typer.Option(
            "--token-env",
            help="Send 'Authorization: Bearer $CADENCE_WEBHOOK_TOKEN' (n8n's $env; a webhook with --token).",
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    cwd: CwdOpt = Path("."),
) -> None:
    """Write n8n workflows that run TARGET's cadences through the webhook server, one per cadence (a
    Manual Trigger and an HTTP Request node POSTing the score's fields with their defaults); one
    cadence gives one workflow object, several a JSON array of them.

    Import it in n8n (Workflows > Import from File) or: n8n import:workflow --input workflow.json

    Example: cadence-studio export-n8n examples/shop.py -o workflow.json --url http://127.0.0.1:8000
    """
    from .n8n_export import export_n8n

    code = asyncio.run(
        export_n8n(target, output, url=url, token_env=token_env, force=force, cwd=cwd, err=sys.stderr)
    )
    raise typer.Exit(code)


def add_webhook_commands(app: typer.Typer) -> None:
    """Register ``webhook`` and ``export-n8n`` on the ``cadence-studio`` command line."""
    app.command("webhook")(webhook_command)
    app.command("export-n8n")(export_n8n_command)
