"""How big a group the committer takes (eventlog.group_sizing), on given measures:
every event waiting up to the cap, or half when the writers are the slower side."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from eventlog.group_sizing import MAX_GROUP_EVENTS, SPLIT_ABOVE, GroupSizing


@dataclass
class Save:
    queued_at: float
    size: int = 9
    events: list[object] = field(init=False)

    def __post_init__(self) -> None:
        self.events = [object()] * self.size


def saves(count: int, *, first_at: float, every: float, size: int = 9) -> deque[Save]:
    return deque(Save(first_at + n * every, size) for n in range(count))


def sizing_after_a_commit(
    began: float, answered: float, cap: int = MAX_GROUP_EVENTS
) -> GroupSizing[Save]:
    sizing: GroupSizing[Save] = GroupSizing(cap)
    sizing.committed(began, answered)
    return sizing


def test_a_group_takes_every_save_waiting_when_the_writers_keep_up() -> None:
    # 16 saves queued in 0.1 ms since the answer; the last commit took 3 ms.
    sizing = sizing_after_a_commit(began=7.0, answered=10.0)
    waiting = saves(16, first_at=10.0001, every=0.00001)
    assert len(sizing.take(waiting)) == 16
    assert not waiting


def test_a_group_takes_half_when_the_writers_took_longer_than_the_commit() -> None:
    # 16 saves of 9 events queued over 3 ms since the answer; the commit took 1 ms.
    sizing = sizing_after_a_commit(began=9.999, answered=10.0)
    waiting = saves(16, first_at=10.0001, every=0.0002)
    group = sizing.take(waiting)
    assert sum(len(s.events) for s in group) == 72  # half of the 144 waiting
    assert [s.queued_at for s in group] == sorted(s.queued_at for s in group)
    assert len(waiting) == 8  # the oldest went first; the rest wait for the next group


def test_small_groups_are_never_split() -> None:
    sizing = sizing_after_a_commit(began=9.999, answered=10.0)
    waiting = saves(7, first_at=10.0001, every=0.01)  # 63 events, queued slowly
    assert len(sizing.take(waiting)) == 7
    assert SPLIT_ABOVE >= 7 * 9


def test_a_group_holds_at_most_the_cap_and_the_save_that_crosses_it() -> None:
    sizing = sizing_after_a_commit(began=7.0, answered=10.0, cap=40)
    waiting = saves(15, first_at=10.0001, every=0.00001, size=8)
    groups = []
    while waiting:
        groups.append(len(sizing.take(waiting)))
    assert groups == [5, 5, 5]  # 40 events each


def test_the_writers_pace_is_what_they_queued_since_the_last_answer() -> None:
    sizing = sizing_after_a_commit(began=8.0, answered=9.0)
    sizing.committed(began=9.0, answered=9.001)  # a commit of 1 ms, answered at 9.001
    # Left from before the last answer, queued over a long while: not the pace.
    waiting = saves(8, first_at=5.0, every=0.5)
    waiting.extend(saves(8, first_at=9.002, every=0.00001))  # queued since, quickly
    assert len(sizing.take(waiting)) == 16
    assert sizing.seconds_per_event < 0.00001


def test_with_nothing_queued_since_the_last_answer_the_one_before_counts() -> None:
    # The committer answered a moment ago and others were waiting: those queued
    # while its commit ran (since the answer before) are the writers' pace.
    sizing = sizing_after_a_commit(began=9.0, answered=10.0)
    sizing.committed(began=10.0, answered=10.001)
    waiting = saves(16, first_at=10.00001, every=0.00006)  # queued during the last commit
    sizing.take(waiting)
    assert 0.000005 < sizing.seconds_per_event < 0.00001  # 0.9 ms for 144 events


def test_a_quiet_spell_before_a_burst_is_no_pace() -> None:
    sizing = sizing_after_a_commit(began=9.999, answered=10.0)
    waiting = saves(16, first_at=70.0, every=0.00001)  # a minute later, all at once
    assert len(sizing.take(waiting)) == 16
