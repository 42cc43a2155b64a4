"""``python -m bench.backend``: run the reference backend; prints one ready line."""

from __future__ import annotations

import argparse

from bench.backend._config import TargetConfig
from bench.backend._server import READY_PREFIX, serve
from bench.faults import Faults, parse_outage


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.backend")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--session-ttl", type=float, default=3600.0)
    parser.add_argument("--refresh-window", type=float, default=3600.0)
    parser.add_argument("--keep-alive", type=float, default=30.0)
    parser.add_argument("--projects-per-user", type=int, default=3)
    parser.add_argument("--crosswire-rate", type=float, default=0.0)
    parser.add_argument("--crosswire-seed", type=int, default=None)
    parser.add_argument("--certfile", default=None)
    parser.add_argument("--keyfile", default=None)
    parser.add_argument("--fault-5xx", type=float, default=0.0)
    parser.add_argument("--fault-slow", type=float, default=0.0)
    parser.add_argument("--fault-slow-seconds", type=float, default=11.0)
    parser.add_argument("--fault-reset", type=float, default=0.0)
    parser.add_argument("--expire-every", type=float, default=None)
    parser.add_argument("--refresh-outage", type=parse_outage, default=None)
    parser.add_argument("--faults-after-reset", action="store_true")
    parser.add_argument("--accounts-file", default=None)
    args = parser.parse_args()
    config = TargetConfig(
        host=args.host,
        port=args.port,
        session_ttl_s=args.session_ttl,
        refresh_window_s=args.refresh_window,
        keep_alive_s=args.keep_alive,
        projects_per_user=args.projects_per_user,
        crosswire_rate=args.crosswire_rate,
        crosswire_seed=args.crosswire_seed,
        certfile=args.certfile,
        keyfile=args.keyfile,
        faults=Faults(
            error_rate=args.fault_5xx,
            slow_rate=args.fault_slow,
            slow_s=args.fault_slow_seconds,
            reset_rate=args.fault_reset,
            expire_every_s=args.expire_every,
            refresh_outage=args.refresh_outage,
            after_reset=args.faults_after_reset,
        ),
        accounts_file=args.accounts_file,
    )
    serve(config, ready=lambda url: print(f"{READY_PREFIX}{url}", flush=True))


if __name__ == "__main__":
    main()
