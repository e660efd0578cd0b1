from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    TypeVar,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.capacity import Capacity


T = TypeVar("T", bound="ComputeNodeInfo")


@_attrs_define
class ComputeNodeInfo:
    """A compute node's engines and capacity.

    Attributes:
        available_capacity (Capacity): Resources as numbers: what a node has or what a job needs. Serialized as
            Bacalhau's
            `ResourceUsageData` (`CPU` in cores, `Memory` and `Disk` in bytes, `GPU` a count).
        execution_engines (list[str]): Engines it runs.
        max_capacity (Capacity): Resources as numbers: what a node has or what a job needs. Serialized as Bacalhau's
            `ResourceUsageData` (`CPU` in cores, `Memory` and `Disk` in bytes, `GPU` a count).
        max_concurrent_executions (int): Executions it may run at once (extension).
        max_job_requirements (Capacity): Resources as numbers: what a node has or what a job needs. Serialized as
            Bacalhau's
            `ResourceUsageData` (`CPU` in cores, `Memory` and `Disk` in bytes, `GPU` a count).
        running_executions (int): Executions running on it.
    """

    available_capacity: "Capacity"
    execution_engines: list[str]
    max_capacity: "Capacity"
    max_concurrent_executions: int
    max_job_requirements: "Capacity"
    running_executions: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        available_capacity = self.available_capacity.to_dict()

        execution_engines = self.execution_engines

        max_capacity = self.max_capacity.to_dict()

        max_concurrent_executions = self.max_concurrent_executions

        max_job_requirements = self.max_job_requirements.to_dict()

        running_executions = self.running_executions

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "AvailableCapacity": available_capacity,
                "ExecutionEngines": execution_engines,
                "MaxCapacity": max_capacity,
                "MaxConcurrentExecutions": max_concurrent_executions,
                "MaxJobRequirements": max_job_requirements,
                "RunningExecutions": running_executions,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.capacity import Capacity

        d = dict(src_dict)
        available_capacity = Capacity.from_dict(d.pop("AvailableCapacity"))

        execution_engines = cast(list[str], d.pop("ExecutionEngines"))

        max_capacity = Capacity.from_dict(d.pop("MaxCapacity"))

        max_concurrent_executions = d.pop("MaxConcurrentExecutions")

        max_job_requirements = Capacity.from_dict(d.pop("MaxJobRequirements"))

        running_executions = d.pop("RunningExecutions")

        compute_node_info = cls(
            available_capacity=available_capacity,
            execution_engines=execution_engines,
            max_capacity=max_capacity,
            max_concurrent_executions=max_concurrent_executions,
            max_job_requirements=max_job_requirements,
            running_executions=running_executions,
        )

        compute_node_info.additional_properties = d
        return compute_node_info

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
