"""``python -m bench.backend --config JSON``: run the reference backend; one ready line.

Started by ``TargetProcess``, which hands over its whole ``TargetConfig`` as one JSON
value (``TargetConfig.to_json``): the options were parsed and checked by the door that
asked for the target, not by a parser of the backend's own.
"""

from __future__ import annotations

import sys

from bench.backend._config import TargetConfig
from bench.backend._server import READY_PREFIX, serve


def main() -> None:
    arguments = sys.argv[1:]
    if len(arguments) != 2 or arguments[0] != "--config":
        sys.exit("usage: python -m bench.backend --config JSON (TargetConfig.to_json())")
    try:
        config = TargetConfig.from_json(arguments[1])
    except (ValueError, TypeError) as exc:
        sys.exit(f"python -m bench.backend: --config is not a TargetConfig: {exc}")
    serve(config, ready=lambda url: print(f"{READY_PREFIX}{url}", flush=True))


if __name__ == "__main__":
    main()
