"""What every podium aggregate shares: a lean way to trigger its events.

Every event an agent emits passes through ``trigger_event`` on the thread (or
event loop) that runs the agents, so its cost bounds how many events a
runtime can record per second. eventsourcing's version is written for any
event class: it checks for explicit topics, copies the keyword arguments,
builds the event through the frozen dataclass's ``__init__`` (a
``object.__setattr__`` per field) and validates it in ``mutate()`` against the
aggregate it was just made from. podium's events all have one field of their
own, ``payload``, so the event can be put together directly, as eventsourcing
itself does when it reads an event back from the store.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, CanMutateAggregate, datetime_now_with_tzinfo

_PAYLOAD_ONLY = frozenset(("payload",))
_PAYLOAD_EVENT_FIELDS = frozenset(("originator_id", "originator_version", "timestamp", "payload"))
_new_event = object.__new__
_payload_event_classes: dict[type, bool] = {}


def _is_payload_event(event_class: type) -> bool:
    """Whether the event's fields are exactly those set directly below (an event
    class that grows another field, even with a default, goes eventsourcing's way)."""
    known = _payload_event_classes.get(event_class)
    if known is None:
        fields = dataclasses.fields(event_class) if dataclasses.is_dataclass(event_class) else ()
        known = {f.name for f in fields} == _PAYLOAD_EVENT_FIELDS
        _payload_event_classes[event_class] = known
    return known


class PodiumAggregate(Aggregate):
    """eventsourcing's Aggregate, with a ``trigger_event`` for payload events."""

    def trigger_event(self, event_class: type[CanMutateAggregate[UUID]], **kwargs: Any) -> None:
        """The next event of this aggregate, timestamped now, applied and pending.

        The same event, field for field, as eventsourcing's ``trigger_event``
        makes (the tests compare them). Anything but ``payload=`` for an event
        of podium's shape goes eventsourcing's way, which says clearly what is
        wrong with it.
        """
        if kwargs.keys() != _PAYLOAD_ONLY or not _is_payload_event(event_class):
            super().trigger_event(event_class, **kwargs)
            return
        version = self.version + 1
        timestamp = datetime_now_with_tzinfo()
        event = _new_event(event_class)
        # The checks mutate() would make hold by construction: this aggregate's
        # id, its next version.
        event.__dict__.update(
            kwargs, originator_id=self.id, originator_version=version, timestamp=timestamp
        )
        event.apply(self)
        self.version = version
        self.modified_on = timestamp
        self.pending_events.append(event)
