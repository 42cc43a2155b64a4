"""The reference Aegis backend: the embedded default target, with instruments.

Starlette on uvicorn (uvloop, httptools). Routes are documented in ``_app``; the
connection ledger (``_ledger``) and the identity oracle (``_oracle``) are read through
``GET /_bench/stats`` and zeroed by ``POST /_bench/reset``.
"""

from bench.backend._app import COOKIE, USER_HEADER, create_app
from bench.backend._config import TargetConfig
from bench.backend._ledger import ConnectionLedger
from bench.backend._server import TargetProcess, serve
from bench.faults import Faults, faults_from_json, parse_outage

__all__ = [
    "COOKIE",
    "USER_HEADER",
    "ConnectionLedger",
    "Faults",
    "TargetConfig",
    "TargetProcess",
    "create_app",
    "faults_from_json",
    "parse_outage",
    "serve",
]
