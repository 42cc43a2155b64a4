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

from bench.locust_adapter._versions import check_versions

check_versions()

from bench.locust_adapter._bridge import LoopBridge  # noqa: E402
from bench.locust_adapter._plugin import register_listeners  # noqa: E402
from bench.locust_adapter._steps import APICallFailed, SessionFinding  # noqa: E402
from bench.locust_adapter._user import AegisUser  # noqa: E402
from bench.think_time import ThinkTime  # noqa: E402

__all__ = ["APICallFailed", "AegisUser", "LoopBridge", "SessionFinding", "ThinkTime"]

register_listeners()
