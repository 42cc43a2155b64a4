"""uvicorn's httptools protocol, reporting connections to the ledger."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from bench.backend._ledger import ConnectionLedger

__all__ = ["ledger_protocol"]


def ledger_protocol(ledger: ConnectionLedger) -> type[asyncio.Protocol]:
    """A protocol class (uvicorn's ``http=`` accepts one) that opens and closes entries."""

    class LedgerProtocol(HttpToolsProtocol):
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            ledger.opened(self.client)

        def connection_lost(self, exc: Exception | None) -> None:
            ledger.closed(self.client)
            super().connection_lost(exc)

    return LedgerProtocol
