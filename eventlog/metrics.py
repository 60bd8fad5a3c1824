"""What appending to the log costs, measured where it happens: the group commit.

Instruments of this process (prometheus_client's default registry), served
by the gateway's ``/metrics``. They are observed once per group, not once per
event: a group of hundreds of events costs two histogram observations, each
a lock and a bisection, on the committer thread after the commit.
"""

from __future__ import annotations

from prometheus_client import Histogram

# Events per committed group: 1 is a writer alone; MAX_GROUP_EVENTS is the cap.
GROUP_EVENTS = Histogram(
    "podium_append_group_events",
    "Events saved per group commit (one transaction) by this process",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000),
)
# From the moment the group's oldest caller handed its events over to the
# moment they were durable: the longest wait of the group's callers.
APPEND_SECONDS = Histogram(
    "podium_append_seconds",
    "Longest wait of a group commit's callers, from handing events over to durable",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def group_committed(events: int, queued_at: float, durable_at: float) -> None:
    """Record one group: how many events, and how long its oldest caller waited
    (``time.perf_counter`` values)."""
    GROUP_EVENTS.observe(events)
    APPEND_SECONDS.observe(max(0.0, durable_at - queued_at))
