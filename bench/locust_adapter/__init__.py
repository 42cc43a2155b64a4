"""The Locust adapter: the only part of ``bench`` that imports locust or gevent.

Import it from a locustfile (``from bench.locust_adapter import AegisUser``): that
registers the tool's options and event listeners, and gives you the user base class.
"""

import sys

# httpcore imports trio when it is installed, and under gevent's monkey-patching that
# import crashes (``select.epoll`` is gone). Locust processes never use trio, so it is
# hidden from them before httpx/httpcore are first imported.
if "trio" not in sys.modules:
    sys.modules["trio"] = None  # type: ignore[assignment]

from bench.locust_adapter._bridge import LoopBridge
from bench.locust_adapter._plugin import register_listeners
from bench.locust_adapter._user import AegisUser, APICallFailed
from bench.think_time import ThinkTime

__all__ = ["APICallFailed", "AegisUser", "LoopBridge", "ThinkTime"]

register_listeners()
