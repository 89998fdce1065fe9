"""Background work transports: how committed outbox jobs reach something that runs them.

Embedded mode (no ``TESSERA_REDIS_URL``) runs them in-process; with Redis, a relay moves them to rq
queues and ``tessera worker`` processes run them (``worker.py``), a reaper puts abandoned ones back
(``reaper.py``) and rq's cron scheduler drives the minute tick of schedules.
"""

from tessera.jobs.transport import EmbeddedTransport, RqTransport, attach, dispatch

__all__ = ["EmbeddedTransport", "RqTransport", "attach", "dispatch"]
