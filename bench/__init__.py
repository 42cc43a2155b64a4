"""aegis-bench: multi-session load and isolation benchmark for session-carrying API clients.

Importing ``bench`` imports nothing heavy: Locust (which monkey-patches the process on
import) is only imported by ``bench.locust_adapter`` and the locustfiles in ``scenarios/``.
"""
