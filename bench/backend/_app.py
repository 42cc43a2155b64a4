"""The reference Aegis backend's routes (Starlette), with its instruments.

Application routes (``/api/v1/...``) feed the connection ledger and the identity oracle;
admin routes under ``/_bench/`` read, reset and steer them and are never counted.
"""

from __future__ import annotations

import json
import random
import resource
import secrets
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bench.backend._config import TargetConfig
from bench.backend._faults import ASGIApp, FaultInjector
from bench.backend._ledger import ConnectionLedger
from bench.backend._oracle import IdentityOracle
from bench.backend._store import Session, SessionStore
from bench.faults import faults_from_json

__all__ = ["COOKIE", "USER_HEADER", "create_app"]

COOKIE = "aegis_session"
USER_HEADER = "x-bench-user"
# Marks a deliberate replay of a signed-out session's cookie (the backend's own test).
REPLAY_HEADER = "x-bench-replay"


class _Backend:
    """State shared by the routes of one app instance."""

    def __init__(self, config: TargetConfig, ledger: ConnectionLedger) -> None:
        self.config = config
        self.ledger = ledger
        self.oracle = IdentityOracle()
        self.store = SessionStore(
            config.session_ttl_s, config.refresh_window_s, config.projects_per_user
        )
        if config.accounts_file is not None:
            with open(config.accounts_file, encoding="utf-8") as accounts:
                self.store.import_accounts(json.load(accounts)["accounts"])
        self.rng = random.Random(config.crosswire_seed)
        self.crosswired = 0
        self.cpu_at_reset = _cpu_seconds()
        # Names this process's lifetime: a reader that sees it change knows the target
        # restarted and its counters cover only part of what it asked about.
        self.boot_id = secrets.token_hex(8)
        self.injector: FaultInjector | None = None  # set by create_app

    # -- instruments ------------------------------------------------------------------
    def observe(
        self, request: Request, *, needs_session: bool
    ) -> tuple[str | None, Session | None]:
        """Find the request's session (any state) and feed the ledger and the oracle."""
        token = request.cookies.get(COOKIE)
        session = self.store.find(token)
        user = session.username if session is not None else None
        self.ledger.request(request.scope.get("client"), user)
        self.oracle.observe(
            request.headers.get(USER_HEADER), user, token is not None, request.url.path,
            needs_session, signed_out=session is not None and session.revoked,
            replay=REPLAY_HEADER in request.headers,
        )  # fmt: skip
        return token, session

    def live_user(self, request: Request) -> tuple[str | None, str | None]:
        """(token, username) of a live session, else (token, None); the request is observed."""
        token, _ = self.observe(request, needs_session=True)
        session = self.store.live(token)
        return token, (session.username if session is not None else None)

    def maybe_crosswire(self, username: str) -> str:
        """The user whose data to answer with: usually ``username``; a fault swaps it."""
        rate = self.config.crosswire_rate
        if rate <= 0 or self.rng.random() >= rate or len(self.store.usernames) < 2:
            return username
        other = username
        while other == username:
            other = self.rng.choice(self.store.usernames)
        self.crosswired += 1
        return other

    def with_cookie(self, response: Response, token: str) -> Response:
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="lax",
            path="/",
            secure=self.config.certfile is not None,
        )
        return response


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _detail(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


UNAUTHORIZED = {"detail": "not authenticated"}


def create_app(config: TargetConfig, ledger: ConnectionLedger | None = None) -> ASGIApp:
    """The ASGI app, behind its fault injector. Pass the ledger the server's protocol
    class reports to."""
    backend = _Backend(config, ledger or ConnectionLedger())

    async def register(request: Request) -> Response:
        backend.observe(request, needs_session=False)
        try:
            body = json.loads(await request.body())
            username, password = body["username"], body["password"]
        except (ValueError, KeyError, TypeError):
            return _detail(422, "send JSON with username and password")
        if not isinstance(username, str) or not isinstance(password, str):
            return _detail(422, "username and password must be strings")
        if not username.strip() or not password:
            return _detail(422, "username and password must not be blank")
        if backend.store.register(username, password) is None:
            return _detail(409, "username already registered")
        token = backend.store.issue(username)
        return backend.with_cookie(JSONResponse({"username": username}, status_code=201), token)

    async def token(request: Request) -> Response:
        backend.observe(request, needs_session=False)
        # A url-encoded form, parsed by hand: Starlette's form parser needs an extra
        # package (python-multipart) and costs more.
        form = parse_qs((await request.body()).decode("latin-1"))
        username = form.get("username", [""])[0]
        password = form.get("password", [""])[0]
        if backend.store.authenticate(username, password) is None:
            return JSONResponse({"detail": "bad credentials"}, status_code=401)
        issued = backend.store.issue(username)
        body = {"username": username, "token_type": "cookie"}
        return backend.with_cookie(JSONResponse(body), issued)

    async def oauth_callback(request: Request) -> Response:
        backend.observe(request, needs_session=False)
        code = request.query_params.get("code")
        if not code or code not in backend.store.users:
            return _detail(400, "unknown or missing code")
        issued = backend.store.issue(code)
        return backend.with_cookie(RedirectResponse("/", status_code=302), issued)

    async def refresh(request: Request) -> Response:
        old, _ = backend.observe(request, needs_session=True)
        new = backend.store.rotate(old)
        if new is None:
            return JSONResponse(UNAUTHORIZED, status_code=401)
        return backend.with_cookie(JSONResponse({"refreshed": True}), new)

    async def logout(request: Request) -> Response:
        token, username = backend.live_user(request)
        if username is None or token is None:
            return JSONResponse(UNAUTHORIZED, status_code=401)
        backend.store.revoke(token)
        response = JSONResponse({"signed_out": True})
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
        return response

    async def me(request: Request) -> Response:
        _, username = backend.live_user(request)
        if username is None:
            return JSONResponse(UNAUTHORIZED, status_code=401)
        return JSONResponse({"username": backend.maybe_crosswire(username)})

    async def projects(request: Request) -> Response:
        _, username = backend.live_user(request)
        if username is None:
            return JSONResponse(UNAUTHORIZED, status_code=401)
        owner = backend.maybe_crosswire(username)
        return JSONResponse(backend.store.users[owner].projects)

    async def stats(request: Request) -> Response:
        return JSONResponse(_stats(backend))

    async def reset(request: Request) -> Response:
        # Optional JSON: {"elapsed_s": s, "zero": false} from a tool that restarted this
        # target mid-run: arm the faults on the run's schedule, keep the counts so far.
        try:
            body = json.loads(await request.body() or b"{}")
            elapsed = float(body.get("elapsed_s", 0.0))
            zero = bool(body.get("zero", True))
        except (ValueError, TypeError, AttributeError):
            return _detail(422, "send no body, or JSON with elapsed_s and zero")
        if zero:
            backend.ledger.reset()
            backend.oracle.reset()
            backend.crosswired = 0
            backend.cpu_at_reset = _cpu_seconds()
            store = backend.store
            store.issued = store.refreshed = store.revoked = 0
        if backend.injector is not None:
            backend.injector.reset(elapsed, zero=zero)
        return JSONResponse({"reset": zero, "boot_id": backend.boot_id})

    async def expire(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            username = body["username"]
            beyond = bool(body.get("beyond_window", False))
        except (ValueError, KeyError, TypeError):
            return _detail(422, "send JSON with username (and optionally beyond_window)")
        if username not in backend.store.users:
            return _detail(404, "unknown user")
        count = backend.store.expire_user(username, beyond_window=beyond)
        return JSONResponse({"expired": count})

    async def faults(request: Request) -> Response:
        assert backend.injector is not None
        try:
            chosen = faults_from_json(
                json.loads(await request.body() or b"{}"), backend.config.faults.slow_s
            )
        except ValueError as exc:
            return _detail(422, str(exc))
        backend.injector.reconfigure(chosen)
        return JSONResponse({"faults": chosen.as_dict()})

    async def accounts(request: Request) -> Response:
        return JSONResponse({"accounts": backend.store.export_accounts()})

    routes = [
        Route("/api/v1/auth/register", register, methods=["POST"]),
        Route("/api/v1/auth/token", token, methods=["POST"]),
        Route("/api/v1/auth/oauth/callback", oauth_callback, methods=["GET"]),
        Route("/api/v1/auth/refresh", refresh, methods=["POST"]),
        Route("/api/v1/auth/logout", logout, methods=["POST"]),
        Route("/api/v1/auth/me", me, methods=["GET"]),
        Route("/api/v1/insights/projects", projects, methods=["GET"]),
        Route("/_bench/stats", stats, methods=["GET"]),
        Route("/_bench/reset", reset, methods=["POST"]),
        Route("/_bench/expire", expire, methods=["POST"]),
        Route("/_bench/accounts", accounts, methods=["GET"]),
        Route("/_bench/faults", faults, methods=["POST"]),
    ]
    backend.injector = FaultInjector(
        Starlette(routes=routes),
        config.faults,
        backend.store.expire_all,
        seed=config.crosswire_seed,
        note_request=lambda scope: backend.ledger.request(scope.get("client"), None),
    )
    return backend.injector


def _stats(backend: _Backend) -> dict[str, Any]:
    store = backend.store
    return {
        "boot_id": backend.boot_id,
        "connections": backend.ledger.stats(),
        "oracle": backend.oracle.stats(),
        "sessions": {
            "issued": store.issued,
            "refreshed": store.refreshed,
            "revoked": store.revoked,
            "active": store.active(),
        },
        "faults": {
            "crosswired": backend.crosswired,
            **(backend.injector.stats() if backend.injector is not None else {}),
        },
        "cpu_s": round(_cpu_seconds() - backend.cpu_at_reset, 3),
        "config": {
            "session_ttl_s": backend.config.session_ttl_s,
            "refresh_window_s": backend.config.refresh_window_s,
            "keep_alive_s": backend.config.keep_alive_s,
            "crosswire_rate": backend.config.crosswire_rate,
            "faults": (
                backend.injector.faults if backend.injector else backend.config.faults
            ).as_dict(),
        },
    }
