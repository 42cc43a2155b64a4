"""The readable report of one run: what the measuring processes found, as tables.

``render`` takes the results as the driver collects them (one entry per measuring
process, as its JSON file holds them) and prints whichever parts were measured: the
memory by component needs both ``rss`` and ``traced``; the GC tables need ``gc``.
"""

from __future__ import annotations

from typing import Any

from bench.perf._session_memory._common import COMPONENTS, LABELS, WARMUP_SESSIONS


def render(results: dict[str, Any]) -> str:
    """The readable report of one run (what its measuring processes found)."""
    lines: list[str] = []
    if "rss" in results and "traced" in results:
        lines += _render_memory(results["rss"], results["traced"])
    if "gc" in results:
        lines += ["", *_render_gc(results["gc"])] if lines else _render_gc(results["gc"])
    return "\n".join(lines)


def _render_memory(rss: dict[str, Any], traced: dict[str, Any]) -> list[str]:
    count = rss["sessions"]
    lines = [
        f"Per session, {count} sessions (pooled strategy, signed in, one keep-alive "
        f"connection each, after a warm-up of {WARMUP_SESSIONS}):",
        "",
        f"{'component':<36}{'RSS KiB':>9}{'traced KiB':>12}{'blocks':>9}{'GC objects':>12}",
    ]
    for name in (*COMPONENTS, "sum", "adapter"):
        measured, seen = rss["components"][name], traced["components"][name]
        if name in ("sum", "adapter"):
            lines.append("-" * 78 if name == "sum" else "")
        lines.append(
            f"{LABELS[name]:<36}{measured['rss_kib']:>9.1f}{seen['traced_kib']:>12.1f}"
            f"{seen['traced_blocks']:>9.1f}{measured['gc_objects']:>12.1f}"
        )
    lines += ["", "Where the traced bytes are (tracemalloc, by file; KiB and blocks per session):"]
    for name in (*COMPONENTS, "adapter"):
        lines.append(f"  {LABELS[name]}:")
        for entry in traced["components"][name]["files"]:
            if entry["kib"] >= 0.05:
                lines.append(
                    f"    {entry['kib']:>7.2f} KiB {entry['blocks']:>6.1f}  {entry['file']}"
                )
    lines += ["", "Objects the cyclic GC tracks, by type (per session):"]
    for name in (*COMPONENTS, "adapter"):
        types = rss["components"][name]["types"]
        shown = ", ".join(f"{t['type'].rsplit('.', 1)[-1]} {t['per_session']:g}" for t in types)
        lines.append(f"  {LABELS[name]}: {shown}")
    return lines


def _render_gc(collecting: dict[str, Any]) -> list[str]:
    count = collecting["sessions"]
    lines = [
        f"Cyclic GC with {count + WARMUP_SESSIONS} sessions parked (thresholds "
        f"{collecting['thresholds']}); gc.collect(generation), CPU ms, median of 5:",
        f"{'':<14}{'tracked':>10}{'gen2':>10}{'frozen':>10}"
        f"{'gen0 ms':>9}{'gen1 ms':>9}{'full ms':>9}",
    ]
    for label, key in (("no freeze", "no_freeze"), ("gc.freeze()", "after_freeze")):
        state = collecting["gc"][key]
        lines.append(
            f"{label:<14}{state['tracked']:>10}{state['gen2']:>10}{state['frozen']:>10}"
            f"{state['collect0_cpu_ms']:>9.2f}{state['collect1_cpu_ms']:>9.2f}"
            f"{state['collect2_cpu_ms']:>9.1f}"
        )
    load = collecting.get("load")
    if not load:
        return lines
    thresholds = ",".join(map(str, load["thresholds"] or ()))
    labels = {
        "as_is": "GC as is",
        "freeze": "gc.freeze()",
        "thresholds": f"thr {thresholds}",
        "freeze_thresholds": "freeze+thr",
    }
    lines += [
        "",
        f"{load['requests']} identity calls per run, {load['concurrency']} at a time, through "
        f"the users' run_step, {load['rounds']} run(s) per setting; CPU: median and least of "
        "the runs, GC time and cyclic garbage found: mean; collections: all runs:",
        f"{'':<18}{'CPU us/req':>11}{'min':>8}{'GC us/req':>10}{'gen0':>7}{'gen1':>6}{'gen2':>6}"
        f"{'ms/gen2':>9}{'garbage/req':>12}{'failed':>7}",
    ]
    for key, run in load["variants"].items():
        each = run["gen2_ms_each"]
        lines.append(
            f"{labels[key]:<18}{run['cpu_us_per_request']:>11.1f}"
            f"{run['cpu_us_per_request_min']:>8.1f}{run['gc_us_per_request']:>10.1f}"
            f"{run['collections']['0']:>7}{run['collections']['1']:>6}"
            f"{run['collections']['2']:>6}{(f'{each:.1f}' if each else '-'):>9}"
            f"{run['collected_per_request']:>12.2f}{run['failures']:>7}"
        )
    lines.append(
        f"RSS growth over the first run (GC as is), built sessions to peak: "
        f"{load['rss_growth_kib_per_session']:.2f} KiB per session"
    )
    return lines
