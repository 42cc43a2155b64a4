"""The parts of ``bench.perf.session_memory``, one job to a module.

``python -m bench.perf.session_memory`` is the entry point and documents what is
measured; this package holds what it runs:

- ``_common``: the figures every part shares (warm-up, batch sizes, keep-alives, the
  measuring processes, the components and their labels) and the ``--thresholds`` type;
- ``_measurer``: the measuring process, which builds sessions phase by phase;
- ``_users``: the Locust environment and the two user classes the measurer starts;
- ``_marks``: memory marks (RSS, GC-tracked objects, tracemalloc) and what each phase
  is charged;
- ``_gc``: what the cyclic GC walks and costs, at rest and per request under load;
- ``_report``: the readable report of the measuring processes' results.

Nothing here imports a third-party module at import time: a measuring process must
import Locust (which patches with gevent) before anything else.
"""
