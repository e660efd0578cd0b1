from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    TypeVar,
    Union,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.build_version_info import BuildVersionInfo
    from ..models.node_info_labels import NodeInfoLabels
    from ..models.peer_info import PeerInfo
    from ..models.sandbox_status import SandboxStatus


T = TypeVar("T", bound="NodeInfo")


@_attrs_define
class NodeInfo:
    """`node_info` answer.

    Attributes:
        bacalhau_version (BuildVersionInfo): Build facts in Bacalhau's shape.
        engines (list[str]): Extension: engines enabled here.
        executions_running (int): Extension: executions running and jobs waiting.
        jobs_waiting (int): Extension: jobs waiting for a slot.
        labels (NodeInfoLabels): Labels.
        max_concurrent_executions (int): Extension: the slot count.
        node_type (int): Always 1 (requester + compute in one).
        peer_info (PeerInfo): A node's identity.
        exec_sandbox (Union['SandboxStatus', None, Unset]):
    """

    bacalhau_version: "BuildVersionInfo"
    engines: list[str]
    executions_running: int
    jobs_waiting: int
    labels: "NodeInfoLabels"
    max_concurrent_executions: int
    node_type: int
    peer_info: "PeerInfo"
    exec_sandbox: Union["SandboxStatus", None, Unset] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.sandbox_status import SandboxStatus

        bacalhau_version = self.bacalhau_version.to_dict()

        engines = self.engines

        executions_running = self.executions_running

        jobs_waiting = self.jobs_waiting

        labels = self.labels.to_dict()

        max_concurrent_executions = self.max_concurrent_executions

        node_type = self.node_type

        peer_info = self.peer_info.to_dict()

        exec_sandbox: Union[None, Unset, dict[str, Any]]
        if isinstance(self.exec_sandbox, Unset):
            exec_sandbox = UNSET
        elif isinstance(self.exec_sandbox, SandboxStatus):
            exec_sandbox = self.exec_sandbox.to_dict()
        else:
            exec_sandbox = self.exec_sandbox

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "BacalhauVersion": bacalhau_version,
                "Engines": engines,
                "ExecutionsRunning": executions_running,
                "JobsWaiting": jobs_waiting,
                "Labels": labels,
                "MaxConcurrentExecutions": max_concurrent_executions,
                "NodeType": node_type,
                "PeerInfo": peer_info,
            }
        )
        if exec_sandbox is not UNSET:
            field_dict["ExecSandbox"] = exec_sandbox

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.build_version_info import BuildVersionInfo
        from ..models.node_info_labels import NodeInfoLabels
        from ..models.peer_info import PeerInfo
        from ..models.sandbox_status import SandboxStatus

        d = dict(src_dict)
        bacalhau_version = BuildVersionInfo.from_dict(d.pop("BacalhauVersion"))

        engines = cast(list[str], d.pop("Engines"))

        executions_running = d.pop("ExecutionsRunning")

        jobs_waiting = d.pop("JobsWaiting")

        labels = NodeInfoLabels.from_dict(d.pop("Labels"))

        max_concurrent_executions = d.pop("MaxConcurrentExecutions")

        node_type = d.pop("NodeType")

        peer_info = PeerInfo.from_dict(d.pop("PeerInfo"))

        def _parse_exec_sandbox(data: object) -> Union["SandboxStatus", None, Unset]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                exec_sandbox_type_1 = SandboxStatus.from_dict(data)

                return exec_sandbox_type_1
            except:  # noqa: E722
                pass
            return cast(Union["SandboxStatus", None, Unset], data)

        exec_sandbox = _parse_exec_sandbox(d.pop("ExecSandbox", UNSET))

        node_info = cls(
            bacalhau_version=bacalhau_version,
            engines=engines,
            executions_running=executions_running,
            jobs_waiting=jobs_waiting,
            labels=labels,
            max_concurrent_executions=max_concurrent_executions,
            node_type=node_type,
            peer_info=peer_info,
            exec_sandbox=exec_sandbox,
        )

        node_info.additional_properties = d
        return node_info

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
