"""Which agents each session has had, folded from the log's AgentCreated events.

An agent's first event names its session; a session's stream does not name
its agents. The service asks this index when it needs a session's agents
(to add up a budgeted session's spend): each time, it first reads the
AgentCreated events appended since it last read, so the answer is the log's
as of the question, never a read model's, which may trail it.
"""

from __future__ import annotations

import threading
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper
from eventsourcing.utils import get_topic

from domain.agent import AgentCreated

PAGE = 1000  # AgentCreated events read per query


class SessionAgents:
    def __init__(self, recorder: ApplicationRecorder, mapper: Mapper[UUID]) -> None:
        self._recorder = recorder
        self._mapper = mapper
        self._topics = (get_topic(AgentCreated),)
        self._lock = threading.Lock()
        self._read_to = 0  # the notification id read up to
        self._agents: dict[UUID, list[UUID]] = {}

    def of(self, session_id: UUID) -> list[UUID]:
        """The ids of every agent the session has had, in the order created."""
        with self._lock:
            # Up to the head as it is now (ids commit in order: none below it can
            # appear later), so the next question reads only what came since.
            head = self._recorder.max_notification_id() or 0
            while self._read_to < head:
                page = self._recorder.select_notifications(
                    self._read_to, PAGE, head, self._topics, inclusive_of_start=False
                )
                for notification in page:
                    created = self._mapper.to_domain_event(notification)
                    assert isinstance(created, AgentCreated)
                    members = self._agents.setdefault(created.payload.session_id, [])
                    members.append(created.originator_id)
                self._read_to = page[-1].id if len(page) == PAGE else head
            return list(self._agents.get(session_id, ()))
