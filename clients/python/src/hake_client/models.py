"""The wire models (generated from openapi.yaml into ``_generated``) that the client
returns, made to print usefully, and :class:`Node`, which is hand-written because the
cluster's node list and the single node's ``/node_info`` differ in shape.

Printing: ``str()`` of a ``JobState`` or an ``ExecutionState`` is the state's name
(``Completed``), and ``str()`` of a ``JobWithInfo`` is ``<job id> <state>``. The generated
classes get these ``__str__`` methods here, once, so every instance prints so, wherever it
sits in an answer.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from ._generated.models import (
    ExecutionState,
    ExecutionStateType,
    Job,
    JobHistory,
    JobState,
    JobStateType,
    JobWithInfo,
    NodeInfo,
    PublishedResult,
    Spec,
)

__all__ = [
    "ExecutionState",
    "ExecutionStateType",
    "Job",
    "JobHistory",
    "JobState",
    "JobStateType",
    "JobWithInfo",
    "Node",
    "NodeInfo",
    "PublishedResult",
    "Spec",
    "TERMINAL_STATES",
]

#: The job states that never change again.
TERMINAL_STATES = frozenset(
    {
        JobStateType.COMPLETED,
        JobStateType.COMPLETEDPARTIALLY,
        JobStateType.ERROR,
        JobStateType.CANCELLED,
    }
)


def _state_name(self: Any) -> str:
    return str(self.state)


def _job_with_info(self: JobWithInfo) -> str:
    return f"{self.state.job_id} {self.state.state}"


JobState.__str__ = _state_name  # type: ignore[method-assign]
ExecutionState.__str__ = _state_name  # type: ignore[method-assign]
JobWithInfo.__str__ = _job_with_info  # type: ignore[method-assign, assignment]


def _get(d: Mapping[str, Any], *names: str) -> Any:
    """The first of ``names`` present in ``d``, matched case-insensitively (Go decodes so)."""
    lower = {k.lower(): v for k, v in d.items()}
    for n in names:
        if n.lower() in lower:
            return lower[n.lower()]
    return None


@dataclass
class Node:
    """A node of the cluster (or the one node answering). ``str()`` is its id."""

    #: ``PeerInfo.ID``.
    id: str
    #: ``Labels``.
    labels: Dict[str, str] = field(default_factory=dict)
    #: The engines it runs (``Docker``, ``Wasm``, ``Exec``, ``Noop``).
    engines: List[str] = field(default_factory=list)
    #: ``CONNECTED`` or ``DISCONNECTED`` in a cluster; None from a lone node's ``/node_info``.
    connection: Optional[str] = None
    #: The whole record as the server sent it.
    raw: Dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.id

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Node":
        """Reads a Bacalhau-shaped NodeInfo record (``PeerInfo.ID``, ``Labels``, engines
        at the top or under ``ComputeNodeInfo.ExecutionEngines``, ``Connection``)."""
        peer = _get(d, "PeerInfo") or {}
        compute = _get(d, "ComputeNodeInfo") or {}
        engines = _get(d, "Engines")
        if engines is None and isinstance(compute, Mapping):
            engines = _get(compute, "ExecutionEngines", "Engines")
        labels = _get(d, "Labels")
        connection = _get(d, "Connection")
        return cls(
            id=str(_get(peer, "ID") or "") if isinstance(peer, Mapping) else "",
            labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {},
            engines=[str(e) for e in engines] if isinstance(engines, list) else [],
            connection=str(connection) if connection is not None else None,
            raw=dict(d),
        )
