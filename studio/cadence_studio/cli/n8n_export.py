"""``cadence-studio export-n8n TARGET -o workflow.json``: n8n workflows that run TARGET's cadences
through the webhook server (``cadence-studio webhook``).

One workflow per cadence (n8n allows one Manual Trigger per workflow): a Manual Trigger named
``Run NAME`` and an HTTP Request node named ``NAME`` that POSTs the score's fields, with the values of
the cadence's construction score, to ``URL/cadences/NAME`` (a factory's arguments as query parameters).
A TARGET with one cadence (or ``TARGET:NAME``) gives one workflow object, what n8n's *Import from
File* reads; several give a JSON array of workflows, what ``n8n import:workflow --input`` reads (as
``n8n export:workflow --all`` writes it). Each workflow's ``id`` is derived from the TARGET and the
cadence, so importing a new export replaces the old workflow instead of adding one.

The module is imported by a worker (as ``cadence-studio export`` does): no user code runs here.
"""

from __future__ import annotations

import hashlib
import json
import string
import sys
import uuid
from pathlib import Path
from typing import Any, TextIO

from .. import protocol as p
from ..errors import ScaffoldError
from ..protocol.target import parse_target
from ..scaffold import write_file
from .headless import _catalog
from .terminal_text import escaped

__all__ = ["TOKEN_ENV", "export_n8n", "workflow_for", "workflows"]

#: The environment variable an exported workflow reads the webhook's token from (``--token-env``).
TOKEN_ENV = "CADENCE_WEBHOOK_TOKEN"
#: Node type versions n8n 2.8.4 knows (checked by running the workflows with ``n8n execute``).
MANUAL_TRIGGER = ("n8n-nodes-base.manualTrigger", 1)
HTTP_REQUEST = ("n8n-nodes-base.httpRequest", 4.2)

_ALPHABET = string.ascii_letters + string.digits


def _workflow_id(target: str, name: str) -> str:
    """A stable 16-character id (n8n's own are 16 letters and digits) for ``target``'s cadence."""
    digest = hashlib.sha256(f"cadence-studio:{target}:{name}".encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:16])


def _node_id(workflow: str, node: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"cadence-studio:{workflow}:{node}"))


def _query_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def workflow_for(entry: p.CadenceEntry, *, target: str, url: str, token_env: bool) -> dict[str, Any]:
    """The n8n workflow that runs ``entry`` through the webhook server at ``url``."""
    workflow_id = _workflow_id(target, entry.name)
    trigger_name = f"Run {entry.name}"
    body = entry.score_json if isinstance(entry.score_json, dict) else {}
    parameters: dict[str, Any] = {
        "method": "POST",
        "url": f"{url.rstrip('/')}/cadences/{entry.name}",
    }
    if entry.kind == "factory" and entry.params:
        parameters["sendQuery"] = True
        parameters["queryParameters"] = {
            "parameters": [
                {"name": q.name, "value": "" if q.required else _query_value(q.default)} for q in entry.params
            ]
        }
    if token_env:
        parameters["sendHeaders"] = True
        parameters["headerParameters"] = {
            "parameters": [{"name": "Authorization", "value": f"=Bearer {{{{ $env.{TOKEN_ENV} }}}}"}]
        }
    parameters.update(
        {
            "sendBody": True,
            "contentType": "json",
            "specifyBody": "json",
            "jsonBody": json.dumps(body, indent=2),
            "options": {},
        }
    )
    trigger = {
        "id": _node_id(workflow_id, trigger_name),
        "name": trigger_name,
        "type": MANUAL_TRIGGER[0],
        "typeVersion": MANUAL_TRIGGER[1],
        "position": [0, 0],
        "parameters": {},
    }
    request = {
        "id": _node_id(workflow_id, entry.name),
        "name": entry.name,
        "type": HTTP_REQUEST[0],
        "typeVersion": HTTP_REQUEST[1],
        "position": [240, 0],
        "parameters": parameters,
    }
    return {
        "id": workflow_id,
        "name": f"Cadence: {entry.name}",
        "active": False,
        "nodes": [trigger, request],
        "connections": {trigger_name: {"main": [[{"node": entry.name, "type": "main", "index": 0}]]}},
        "settings": {"executionOrder": "v1"},
        "pinData": {},
        "tags": [],
    }


def workflows(
    entries: list[p.CadenceEntry], *, target: str, url: str, token_env: bool
) -> dict[str, Any] | list[dict[str, Any]]:
    """One workflow for one cadence, a list of them for several."""
    made = [workflow_for(e, target=target, url=url, token_env=token_env) for e in entries]
    return made[0] if len(made) == 1 else made


def _check_url(url: str) -> str | None:
    if not url.startswith(("http://", "https://")) or not url.split("://", 1)[1]:
        return f"--url {url!r} is not an http(s) URL; give the webhook server's, e.g. http://127.0.0.1:8000"
    return None


async def export_n8n(
    target: str,
    output: Path,
    *,
    url: str,
    token_env: bool,
    force: bool,
    cwd: Path,
    err: TextIO = sys.stderr,
) -> int:
    """Write the workflow(s) for TARGET's cadences to ``output`` (relative to the project folder
    ``cwd``, and inside it); the exit code."""
    err = escaped(err)
    problem = _check_url(url)
    if problem is not None:
        print(f"error: {problem}", file=err)
        return 2
    client, catalog = await _catalog(target, cwd, err)
    if catalog is None:
        return 2
    await client.close(grace=1.0)
    name = parse_target(target).name
    entries = [e for e in catalog.entries if name is None or e.name == name]
    if not entries:
        print(f"error: {target!r} defines no cadence to export", file=err)
        return 2
    # ids from the module and the cadence: `shop.py` and `shop.py:checkout` give checkout the same id
    data = workflows(entries, target=parse_target(target).spec, url=url, token_env=token_env)
    path = output if output.is_absolute() else cwd / output  # relative to the project, like TARGET
    try:
        write_file(path, (json.dumps(data, indent=2) + "\n").encode(), root=cwd, force=force)
    except ScaffoldError as error:
        print(f"error: {error}", file=err)
        return 2
    for entry in entries:
        missing = [q.name for q in entry.params if q.required]
        if missing:
            print(
                f"warning: {entry.name}() needs {', '.join(map(repr, missing))}: fill in the query "
                f"parameters of node {entry.name!r} in n8n",
                file=err,
            )
    count = f"{len(entries)} workflows" if len(entries) > 1 else "1 workflow"
    print(f"wrote {path} ({count}: {', '.join(e.name for e in entries)}; POST to {url})", file=err)
    return 0
