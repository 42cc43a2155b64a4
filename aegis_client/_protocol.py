"""``SessionAPI``: the verbs the auth helpers (and scenarios) need from a client.

``APIClient`` satisfies it; so does any wrapper with the same verbs (a measuring proxy,
a test fake), which is why the helpers accept it rather than ``APIClient`` itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeAlias

__all__ = ["JSONResult", "SessionAPI"]

JSONResult: TypeAlias = dict[str, Any] | list[Any]


class SessionAPI(Protocol):
    """The spec's verbs: JSON (``dict | list``) on 2xx, ``None`` on any error."""

    async def get(
        self, endpoint: str, params: Mapping[str, Any] | None = None
    ) -> JSONResult | None: ...

    async def post(self, endpoint: str, json: Any = None) -> JSONResult | None: ...

    async def post_form(self, endpoint: str, data: Mapping[str, str]) -> JSONResult | None: ...

    def clear_cookies(self) -> None: ...
