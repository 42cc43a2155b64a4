"""The options reference (``docs/options.md``), made from the declarations.

``python -m bench.cli.reference`` writes it; a test fails when the file and the
declarations differ.
"""

from __future__ import annotations

from typing import Any

from bench.options import _catalog as c
from bench.options._option import COMMANDS, Option

__all__ = ["GROUPS", "reference_markdown"]

# Each group's heading, in the reference's order.
GROUPS = {
    "load": "Load",
    "client": "The client",
    "lifecycle": "The session lifecycle",
    "target": "The target",
    "faults": "Faults of the reference backend",
    "capacity": "Capacity",
    "comparison": "Comparisons",
    "gate": "The gate: what fails a run",
    "output": "Output",
}


def _default(option: Option[Any]) -> str:
    if option.default_doc is not None:
        return option.default_doc
    value = option.default
    return "unset" if value is None else f"`{option.text(value)}`"


def _locust(option: Option[Any]) -> str:
    if option.locust is None:
        return ""
    if option.locust_own:
        return f"`{option.locust}` (Locust's own)"
    where = "form field" if option.web_form else "command line only"
    return f"`{option.locust}` ({where} `{option.dest}`)"


def _meaning(option: Option[Any]) -> str:
    text = option.help
    by_text: dict[str, list[str]] = {}
    for command, other in option.help_by_command.items():
        by_text.setdefault(other, []).append(command)
    for other, commands in by_text.items():
        text += f"; {', '.join(commands)}: {other}"
    if option.evidence is not None:
        text += f". Counted as `{option.evidence.where}` ({option.evidence.what})"
    return text.replace("|", "\\|")


def reference_markdown() -> str:
    """The options reference as Markdown: one table per group of options."""
    lines = [
        "# Options",
        "",
        "Every option of `aegis-bench` and of the tool inside Locust, generated from their",
        "declarations (`bench/options/_catalog.py`) by `python -m bench.cli.reference`. Every",
        "door reads an option with the same parser: a value `aegis-bench run` accepts, the",
        "web UI's start form accepts too. An option whose effect a run can count says where;",
        "a run that asked for it and never did it is *not exercised*, which fails the run.",
        "",
    ]
    for group, title in GROUPS.items():
        options = [o for o in c.ALL if o.group == group]
        lines += [
            f"## {title}",
            "",
            "| option | commands | on Locust's command line | default | meaning |",
            "|---|---|---|---|---|",
        ]
        for option in options:
            commands = ", ".join(name for name in COMMANDS if name in option.commands)
            flag = f"`{option.flag}`" if option.commands else ""
            lines.append(
                f"| {flag} | {commands} | {_locust(option)} | {_default(option)} | "
                f"{_meaning(option)} |"
            )
        lines.append("")
    return "\n".join(lines)
