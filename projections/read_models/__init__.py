"""One module per read model; each table's DDL is sql/read_models/<name>.sql."""

from __future__ import annotations

from collections.abc import Sequence

from projections.directory import AgentDirectory
from projections.projector import Projector
from projections.read_models.agent_logs import AgentLogsProjector
from projections.read_models.agents import AgentsProjector
from projections.read_models.approvals import ApprovalsProjector
from projections.read_models.chat import ChatProjector
from projections.read_models.costs import CostsProjector
from projections.read_models.file_changes import FileChangesProjector
from projections.read_models.sessions import SessionsProjector
from projections.read_models.system_logs import SystemLogsProjector

PROJECTOR_CLASSES: tuple[type[Projector], ...] = (
    SessionsProjector,
    AgentsProjector,
    CostsProjector,
    ChatProjector,
    AgentLogsProjector,
    SystemLogsProjector,
    FileChangesProjector,
    ApprovalsProjector,
)
NAMES: tuple[str, ...] = tuple(cls.name for cls in PROJECTOR_CLASSES)


class UnknownReadModel(ValueError):
    def __init__(self, unknown: list[str]) -> None:
        super().__init__(f"unknown read model {', '.join(unknown)}: choose from {', '.join(NAMES)}")


def projectors(names: Sequence[str], directory: AgentDirectory) -> list[Projector]:
    """Projectors for the named read models, in a fixed order, sharing ``directory``."""
    unknown = sorted(set(names) - set(NAMES))
    if unknown:
        raise UnknownReadModel(unknown)
    return [cls(directory) for cls in PROJECTOR_CLASSES if cls.name in names]
