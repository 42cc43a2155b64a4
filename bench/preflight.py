"""Preflight: one throwaway user proves the target and the profile work before any load.

A run that cannot judge isolation must not start: a dead target, a sign-in route that
fails, a cookie under another name, or an identity route that does not name the user
would otherwise give thousands of failed calls and a verdict without evidence. The
throwaway user goes through the profile's own routes with the scenario's own steps, in
this order, and the first thing that fails is reported in one line saying what to change:

1. the target answers at all (any HTTP status will do);
2. the user can register, or sign in;
3. the profile's session cookie was issued;
4. the identity route answers a JSON object whose identity field names the user;
5. each data route answers;
6. the user signs out.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import ssl

import httpx

from bench.measure import CallRecord
from bench.profile import Profile
from bench.session import MeasuredSession
from bench.steps import start_session
from bench.strategies import StrategyContext

__all__ = ["PreflightError", "preflight"]


class PreflightError(Exception):
    """The target or the profile cannot carry a run; the message says what to change."""


def _context(
    base_url: str, profile: Profile, timeout_s: float, ca_file: str | None
) -> StrategyContext:
    verify: ssl.SSLContext | bool = True
    if ca_file is not None:
        verify = ssl.create_default_context(cafile=ca_file)

    def transport() -> httpx.AsyncBaseTransport:
        return httpx.AsyncHTTPTransport(verify=verify, limits=httpx.Limits(max_connections=2))

    return StrategyContext(
        base_url, timeout=timeout_s, make_inner_transport=transport, profile=profile
    )


async def _check(session: MeasuredSession, base_url: str) -> None:
    profile = session.profile
    name = session.login_name
    if await session.get(profile.identity) is None and session.last_failure is not None:
        reason = session.last_failure.rsplit(": ", 1)[-1]
        if not reason.startswith("HTTP "):
            raise PreflightError(
                f"the target at {base_url} does not answer ({reason}): start it, or fix --host"
            )
    if not await start_session(session):
        raise PreflightError(
            f"a test user could not register ({profile.register}) or sign in "
            f"({profile.sign_in}): {session.last_failure}. Check the profile's routes and "
            "register_fields, or --timeout for slow password hashing"
        )
    if session.session_cookie() is None:
        names = sorted(cookie.name for cookie in session.client.cookie_jar.jar)
        raise PreflightError(
            f"signing in issued no '{profile.cookie_name}' cookie "
            f"(cookies issued: {', '.join(names) or 'none'}): set cookie_name in the profile"
        )
    answer = await session.get(profile.identity)
    if answer is None:
        raise PreflightError(
            f"GET {profile.identity} failed for a signed-in user ({session.last_failure}): "
            "set identity in the profile to the route that says who is signed in"
        )
    if not isinstance(answer, dict):
        raise PreflightError(
            f"isolation not checked: GET {profile.identity} answered a JSON "
            f"{type(answer).__name__}, not an object: set identity in the profile to the "
            "route that says who is signed in"
        )
    if answer.get(profile.identity_field) is None:
        raise PreflightError(
            f"isolation not checked: GET {profile.identity} answered no field "
            f"'{profile.identity_field}' (fields: {', '.join(sorted(answer)) or 'none'}): "
            "set identity_field in the profile"
        )
    if answer[profile.identity_field] != name:
        raise PreflightError(
            f"isolation not checked: GET {profile.identity} names "
            f"'{answer[profile.identity_field]}', not the signed-in user '{name}': check "
            "identity_field and username_template"
        )
    for data in profile.data:
        if await session.get(data.route) is None:
            raise PreflightError(
                f"GET {data.route} failed for a signed-in user ({session.last_failure}): "
                "fix or remove that [[data]] route in the profile"
            )
    if await session.sign_out() is None:
        raise PreflightError(
            f"the backend did not confirm signing out through {profile.sign_out} "
            f"({session.last_failure or 'the sign-out carried no session cookie'}): set "
            "sign_out in the profile; without it no replay can test revocation"
        )


async def _preflight(
    base_url: str, profile: Profile, timeout_s: float, ca_file: str | None
) -> list[CallRecord]:
    records: list[CallRecord] = []
    context = _context(base_url, profile, timeout_s, ca_file)
    client = context.api_client()
    name = f"preflight-{secrets.token_hex(4)}"
    session = MeasuredSession(client, name, secrets.token_urlsafe(12), records.append, profile)
    # The client logs each failed call; the one that fails on purpose (the unsigned
    # first request) and any that fail the preflight are reported in its own words.
    client_logger = logging.getLogger("aegis_client")
    level = client_logger.level
    client_logger.setLevel(logging.ERROR)
    try:
        await _check(session, base_url)
    finally:
        client_logger.setLevel(level)
        await client.aclose()
    return records


def preflight(
    base_url: str,
    profile: Profile,
    *,
    timeout_s: float = 10.0,
    ca_file: str | None = None,
) -> list[CallRecord]:
    """Run the checks; raise :class:`PreflightError` naming the first that failed.

    Returns the throwaway user's call records. Bounded by a few times ``timeout_s``.
    """
    return asyncio.run(_preflight(base_url, profile, timeout_s, ca_file))
