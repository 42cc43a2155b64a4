"""The parts every report.html shares: the page frame, the legend, the outcome, the
isolation evidence and the session lifecycle.

The page is one file with its CSS inline and no script: it loads nothing, so it opens
offline and from a CI artefact alike. Its content column is at most 1,180 px wide,
tables wrap their cells, and charts scale to the column, so nothing scrolls sideways
at 1,366 px. Every value from data is escaped (``_svg.esc``); the headline's
backticked names become ``<code>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench import numbers as fmt
from bench.outcome import ReasonKind
from bench.report._lifecycle import COUNT_COLUMNS, count_cells, invariant_cell, invariant_names
from bench.report._svg import esc

__all__ = [
    "cell",
    "evidence",
    "figure",
    "legend",
    "lifecycle",
    "outcome",
    "page",
    "prose",
    "swatch",
    "verdict_cell",
]

_CSS = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#222;"
    "line-height:1.4}main{max-width:1180px;margin:0 auto;padding:1em 1.5em 3em}"
    "h1{font-size:1.5em;margin:.4em 0}h2{font-size:1.2em;margin:1.6em 0 .4em;"
    "border-bottom:1px solid #ddd}h3{font-size:1.05em;margin:1.2em 0 .3em}"
    "table{border-collapse:collapse;margin:.4em 0 1em;max-width:100%}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top;"
    "overflow-wrap:break-word}th{background:#f5f5f5;font-weight:600}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "caption{font-weight:bold;text-align:left}.bad{color:#b00020;font-weight:bold}"
    ".good{color:#1b6e35;font-weight:bold}svg{display:block;height:auto;max-width:100%}"
    "figure{margin:.4em 0 1.2em}figcaption{font-weight:600}"
    ".swatch{display:inline-block;width:.9em;height:.9em;border-radius:2px;"
    "vertical-align:-.1em;margin-right:.3em}.legend{position:sticky;top:0;background:#fff;"
    "padding:.3em 0;margin:0;z-index:1}.legend span.item{margin-right:1.4em;"
    "white-space:nowrap}code{background:#f2f2f2;padding:0 .25em;border-radius:3px}"
    ".note{color:#555;font-size:.92em}.headline{font-size:1.05em}"
)


def page(title: str, body: str) -> str:
    """The whole document: ``body`` (already HTML) in the frame, under ``title``."""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def cell(value: object, *, numeric: bool = False) -> str:
    """One escaped table cell; a missing value is left empty."""
    shown = esc("" if value is None else value)
    return f'<td class="n">{shown}</td>' if numeric else f"<td>{shown}</td>"


def swatch(strategy: str, colour: str) -> str:
    """A square of the strategy's colour, before its name."""
    style = f"background:{colour}"
    return f'<span class="swatch" data-strategy="{esc(strategy)}" style="{style}"></span>'


def legend(colours: dict[str, str]) -> str:
    """Which colour stands for which strategy, once for every chart below; it stays at
    the top of the window while the page scrolls."""
    items = "".join(
        f'<span class="item">{swatch(name, colour)}{esc(name)}</span>'
        for name, colour in colours.items()
    )
    return f'<p class="legend">{items}</p>'


def prose(sentence: str) -> str:
    """A sentence written for Markdown as HTML: each `name` in backticks becomes <code>."""
    pieces = sentence.split("`")
    if len(pieces) % 2 == 0:  # an unpaired backtick: its text stays plain, the tick goes
        pieces[-2:] = [pieces[-2] + pieces[-1]]
    return "".join(
        f"<code>{esc(piece)}</code>" if i % 2 else esc(piece) for i, piece in enumerate(pieces)
    )


def figure(caption: str, chart: str, note: str = "") -> str:
    """A chart under its caption (HTML), with an optional note under it."""
    below = f'<p class="note">{note}</p>' if note else ""
    return f"<figure><figcaption>{caption}</figcaption>{chart}{below}</figure>"


def verdict_cell(isolation: dict[str, Any]) -> str:
    """``isolated (reason)``, or the loud verdict in red: ``LEAK (22,442 client-side leaks)``."""
    shown = fmt.verdict(isolation)
    style = "" if shown == "isolated" else ' class="bad"'
    return f"<td{style}>{esc(shown)} ({esc(isolation.get('reason', ''))})</td>"


def _reason_kind(kind: str) -> str:
    """A reason's kind as the terminal heads it (``ISOLATION FAILED``)."""
    try:
        return str(ReasonKind[kind.upper()].value)
    except KeyError:  # a kind from a newer or older summary: its own name, loud
        return kind.replace("_", " ").upper()


def outcome(section: dict[str, Any], what: str) -> str:
    """The verdict the exit code comes from: passed or not, the code, every reason."""
    if section.get("passed"):
        state, style = "PASSED", "good"
    else:
        state, style = ("FAILED", "bad") if section.get("complete", True) else ("INCOMPLETE", "bad")
    ended = "ran to its end" if section.get("complete", True) else "did not run to its end"
    reasons = "".join(
        f"<li><b>{esc(_reason_kind(str(r.get('kind', ''))))}</b>"
        + (f" ({esc(r['subject'])})" if r.get("subject") else "")
        + f": {esc(r.get('text', ''))}</li>"
        for r in section.get("reasons") or []
    )
    return (
        f'<p class="headline"><span class="{style}">{state}</span>: exit code '
        f"{esc(section.get('exit_code', 'n/a'))}; the {what} {ended}"
        + ("." if not reasons else ", and:")
        + "</p>"
        + (f"<ul>{reasons}</ul>" if reasons else "")
    )


# The columns every example has; any other key an example holds follows them.
_EXAMPLE_COLUMNS = ("kind", "endpoint", "user", "got")


def _example_columns(examples: list[dict[str, Any]]) -> list[str]:
    """The fixed columns, then every other key in the order the examples first use it."""
    columns = list(_EXAMPLE_COLUMNS)
    for example in examples:
        columns += [key for key in example if key not in columns]
    return columns


def _evidence_table(label: str, examples: list[dict[str, Any]]) -> str:
    """One run's examples as a table captioned with its label, every value escaped."""
    columns = _example_columns(examples)
    head = "".join(f"<th>{esc(column)}</th>" for column in columns)
    body = "".join(
        "<tr>" + "".join(cell(example.get(column)) for column in columns) + "</tr>"
        for example in examples
    )
    return f"<table><caption>{esc(label)}</caption><tr>{head}</tr>{body}</table>"


def evidence(runs: list[tuple[str, dict[str, Any]]]) -> str:
    """The "Isolation evidence" section: a table per (label, summary) with examples, or ''."""
    tables = [
        _evidence_table(label, examples)
        for label, summary in runs
        if (examples := summary["isolation"].get("examples"))
    ]
    if not tables:
        return ""
    return (
        "<h2>Isolation evidence</h2><p>The examples each run kept (user names and endpoints, "
        "never tokens); the counts above count every case.</p>" + "".join(tables)
    )


def lifecycle(columns: Sequence[tuple[str, dict[str, Any], str | None]]) -> str:
    """The "Session lifecycle" section, transposed so it never runs off the page: a row
    per count and per invariant, a column per (name, lifecycle section, colour)."""
    sections = [section for _, section, _ in columns]
    head = "".join(
        f"<th>{swatch(name, colour) if colour else ''}{esc(name)}</th>"
        for name, _, colour in columns
    )
    counts = [count_cells(section) for section in sections]
    rows = [
        f"<tr><th>{esc(heading)}</th>{''.join(cell(c[i], numeric=True) for c in counts)}</tr>"
        for i, (heading, _) in enumerate(COUNT_COLUMNS)
    ]
    for name in invariant_names(sections):
        shown = [invariant_cell((s.get("invariants") or {}).get(name)) for s in sections]
        rows.append(
            f"<tr><th><code>{esc(name)}</code></th>"
            + "".join(
                f'<td class="bad">{esc(c)}</td>' if c.startswith("BROKEN") else cell(c)
                for c in shown
            )
            + "</tr>"
        )
    return (
        "<h2>Session lifecycle</h2><p>401s, refreshes (and the 401s each served), retries, "
        "on_unauthorized calls, users signed in again and clients recycled; each invariant "
        "held, broke, or was not checked (nothing exercised it).</p>"
        f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>"
    )
