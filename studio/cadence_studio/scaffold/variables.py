"""What the templates' ``$placeholders`` get: a name's spellings, and Python source of literal values."""

from __future__ import annotations

import ast
import textwrap

__all__ = [
    "decorator_doc",
    "literal_source",
    "literal_value",
    "name_variables",
    "outcome_check",
    "python_source",
]


def name_variables(name: str) -> dict[str, str]:
    """``name``, ``title``, ``class_name``: ``charge_card`` → ``Charge card``, ``ChargeCard``."""
    words = [w for w in name.split("_") if w]
    return {
        "name": name,
        "title": " ".join(words).capitalize(),
        "class_name": "".join(w[:1].upper() + w[1:] for w in words),
    }


def literal_value(text: str) -> object:
    """``text`` read as a Python literal (``0``, ``'guest'``, ``[]``); anything else is the string itself."""
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def literal_source(text: str) -> str:
    """Python source of the value of ``text`` (see :func:`literal_value`)."""
    return python_source(literal_value(text))


def python_source(value: object) -> str:
    """Python source of a literal, strings double-quoted as ``ruff format`` writes them."""
    if isinstance(value, str):
        text = repr(value)
        return f'"{text[1:-1]}"' if text.startswith("'") and '"' not in value else text
    if isinstance(value, list):
        return "[" + ", ".join(map(python_source, value)) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(map(python_source, value)) + (",)" if len(value) == 1 else ")")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{python_source(k)}: {python_source(v)}" for k, v in value.items()) + "}"
    if isinstance(value, set | frozenset) and value:
        return "{" + ", ".join(sorted(map(python_source, value))) + "}"
    return repr(value)


def outcome_check(fallback: str | None) -> str:
    """The end of the generated ``assert _outcome() ...``: the fallback value, else the error type."""
    if fallback is None:
        return "is ValueError"
    value = literal_value(fallback)
    singleton = value is None or isinstance(value, bool)
    return f"{'is' if singleton else '=='} {python_source(value)}"


def decorator_doc(fallback: bool, retry: bool, timeout: bool) -> str:
    """The docstring paragraph that explains the generated decorators, outermost first."""
    parts = []
    if fallback:
        parts.append("``@fallback`` stores its value once the note gives up")
    if retry:
        parts.append("``@retry`` repeats an attempt that failed on a transient error (a timeout included)")
    if timeout:
        parts.append("``@timeout`` bounds each attempt")
    if not parts:
        return ""
    return "\n\n" + textwrap.fill(
        "Decorators wrap those below them, outermost first: " + "; ".join(parts) + ".", 100
    )
