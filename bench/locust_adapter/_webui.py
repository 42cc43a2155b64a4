"""The tool inside Locust's web UI: a checked start form, and a live Sessions tab.

Built on Locust's own extension points (``examples/extend_web_ui.py``): the tab and its
table are template arguments; its rows ride on the UI's own poll of
``/stats/requests`` (every 2 s while a test runs) as ``extended_stats``; the same
figures are served as JSON at ``/aegis/sessions`` and as CSV at ``/aegis/sessions/csv``.
A ``before_request`` hook checks the tool's fields of a ``POST /swarm`` (target faults
included: they need the reference backend) and refuses the swarm with
``{"success": false, "message": ...}``, which the UI shows.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Response, jsonify, make_response, request

from bench.locust_adapter._settings import SettingsError, form_settings
from bench.locust_adapter._target_faults import why_target_cannot_inject
from bench.options import Door
from bench.registry import RowKind, needs

__all__ = ["SESSIONS_PATH", "TAB_KEY", "install", "table_rows"]

TAB_KEY = "aegis-sessions"
SESSIONS_PATH = "/aegis/sessions"
logger = logging.getLogger(__name__)

Snapshot = Callable[[], dict[str, Any]]


def _marked(count: Any, mark: str) -> Any:
    """A count that is a finding (a leak, a lost session, a break), standing out when
    it is not zero: ``LEAK 3``, ``LOST SESSION 2``, ``BROKEN 1``."""
    return f"{mark} {count:,}" if isinstance(count, int) and count > 0 else count


def _not_checked(names: list[str]) -> str:
    """Each invariant nothing exercised, with what would, in the start form's terms."""
    return "; ".join(f"{name} (needs {needs(name, Door.WEB_FORM)})" for name in names)


def _outcome(outcome: dict[str, Any] | None) -> str:
    """The test's outcome as it stands (the run's exit code, when it ends)."""
    if not outcome:
        return ""
    if outcome.get("passed"):
        return "passed (exit code 0)"
    kinds = sorted({str(r.get("kind", "")).replace("_", " ") for r in outcome["reasons"]})
    return f"FAILED (exit code {outcome.get('exit_code')}): {', '.join(kinds)}"


def _with_failed(count: Any, failed: Any) -> Any:
    return (
        f"{count:,} ({failed:,})" if isinstance(count, int) and isinstance(failed, int) else count
    )


def table_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    """The Sessions tab's rows (metric, value), leaks first."""
    iso = view.get("isolation") or {}
    conns = view.get("connections") or {}
    life = view.get("lifecycle") or {}
    generator = view.get("generator") or {}
    rows: list[tuple[str, Any]] = [
        ("outcome so far", _outcome(view.get("outcome"))),
        ("isolation verdict", str(iso.get("verdict", "not checked")).upper()),
        ("client-side leaks", _marked(iso.get("client_side_leaks"), RowKind.LEAK)),
        ("server-side leaks", _marked(iso.get("server_side_leaks"), RowKind.LEAK)),
        ("shared connections", _marked(iso.get("shared_connections"), RowKind.LEAK)),
        ("foreign sessions", _marked(iso.get("foreign_sessions"), RowKind.LEAK)),
        ("lost sessions", _marked(iso.get("lost_sessions"), RowKind.LOST_SESSION)),
        ("replays accepted", _marked(iso.get("replay_accepted"), RowKind.LEAK)),
        ("identity checks", iso.get("checked")),
        ("replays checked", iso.get("replay_checked")),
        ("server oracle", iso.get("server_oracle")),
        ("strategy", view.get("strategy")),
        ("sessions alive", view.get("sessions_alive")),
        ("requests", view.get("requests")),
        ("connections opened (client)", conns.get("client_opened")),
        ("connections accepted (server)", conns.get("server_accepted")),
        ("connections per request", conns.get("per_request")),
        ("reconnects", conns.get("reconnects")),
        ("clients built", life.get("clients_built")),
        ("clients released", life.get("clients_released")),
        ("users signing in", life.get("users_signing_in")),
        ("users without session", life.get("users_without_session")),
        ("401s", life.get("unauthorized")),
        ("refreshes (failed)", _with_failed(life.get("refreshes"), life.get("refresh_failures"))),
        ("on_unauthorized", life.get("on_unauthorized")),
        ("signed in again", life.get("signed_in_again")),
        ("recycled clients", life.get("recycled_clients")),
        ("burst tasks", life.get("bursts")),
        ("lifecycle invariants broken", _marked(life.get("invariants_broken"), RowKind.BROKEN)),
        ("invariants not checked", _not_checked(life.get("not_checked") or [])),
        ("generator saturated", "yes" if generator.get("saturated") else "no"),
        ("run folder", view.get("run_folder") or ""),
    ]
    return [{"metric": name, "value": "" if value is None else value} for name, value in rows]


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["metric", "value"])
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def install(environment: Any, snapshot: Snapshot) -> None:
    """Add the Sessions tab, its routes and the start form's check to Locust's web UI."""
    web_ui = environment.web_ui
    app = web_ui.app
    web_ui.template_args["extended_tabs"] = [{"title": "Sessions", "key": TAB_KEY}]
    web_ui.template_args["extended_tables"] = [
        {
            "key": TAB_KEY,
            "structure": [{"key": "metric", "title": "Metric"}, {"key": "value", "title": "Value"}],
        }
    ]
    web_ui.template_args["extended_csv_files"] = [
        {"href": f".{SESSIONS_PATH}/csv", "title": "Download aegis-bench sessions CSV"}
    ]

    def check_swarm() -> Any:
        if request.endpoint != "locust.swarm":
            return None
        try:
            settings = form_settings(environment.parsed_options, request.form)
        except SettingsError as exc:
            problem: str | None = f"aegis-bench: {exc}"
        else:
            problem = None
            if settings.target_faults is not None:
                problem = why_target_cannot_inject(request.form.get("host") or environment.host)
        if problem is None:
            return None
        # HTTP 200: Locust's UI shows a refusal's message only from a 2xx answer.
        return jsonify({"success": False, "message": problem, "host": environment.host})

    def add_sessions_rows(response: Response) -> Response:
        if request.path != "/stats/requests" or response.status_code != 200:
            return response
        try:
            body = json.loads(response.get_data())
            body["extended_stats"] = [{"key": TAB_KEY, "data": table_rows(snapshot())}]
            response.set_data(json.dumps(body))
        except Exception:  # never break Locust's own stats for the tab's sake
            logger.exception("aegis-bench: the Sessions tab could not be filled")
        return response

    def sessions() -> Any:
        return jsonify(snapshot())

    def sessions_csv() -> Any:
        response = make_response(_csv(table_rows(snapshot())))
        response.headers["Content-Type"] = "text/csv"
        response.headers["Content-Disposition"] = "attachment;filename=aegis_sessions.csv"
        return response

    app.before_request(check_swarm)
    app.after_request(add_sessions_rows)
    guard = web_ui.auth_required_if_enabled  # Locust's --web-login, when it is on
    app.add_url_rule(SESSIONS_PATH, "aegis_sessions", guard(sessions))
    app.add_url_rule(f"{SESSIONS_PATH}/csv", "aegis_sessions_csv", guard(sessions_csv))
