"""The ``aegis-bench`` command line (see ``_main``)."""

from bench.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
