import datetime
from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    TypeVar,
    Union,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from dateutil.parser import isoparse

from ..models.job_state_type import JobStateType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.execution_state import ExecutionState


T = TypeVar("T", bound="JobState")


@_attrs_define
class JobState:
    """The state of a job and its executions.

    Attributes:
        create_time (datetime.datetime): When the job was created.
        job_id (str): The job id.
        state (JobStateType): The state of a job.
        timeout_at (datetime.datetime): The deadline of the running executions (zero time until started).
        update_time (datetime.datetime): When the job last changed.
        version (int): Starts at 1, grows by one per job-level change.
        executions (Union[Unset, list['ExecutionState']]): Executions in creation order.
    """

    create_time: datetime.datetime
    job_id: str
    state: JobStateType
    timeout_at: datetime.datetime
    update_time: datetime.datetime
    version: int
    executions: Union[Unset, list["ExecutionState"]] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        create_time = self.create_time.isoformat()

        job_id = self.job_id

        state = self.state.value

        timeout_at = self.timeout_at.isoformat()

        update_time = self.update_time.isoformat()

        version = self.version

        executions: Union[Unset, list[dict[str, Any]]] = UNSET
        if not isinstance(self.executions, Unset):
            executions = []
            for executions_item_data in self.executions:
                executions_item = executions_item_data.to_dict()
                executions.append(executions_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "CreateTime": create_time,
                "JobID": job_id,
                "State": state,
                "TimeoutAt": timeout_at,
                "UpdateTime": update_time,
                "Version": version,
            }
        )
        if executions is not UNSET:
            field_dict["Executions"] = executions

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.execution_state import ExecutionState

        d = dict(src_dict)
        create_time = isoparse(d.pop("CreateTime"))

        job_id = d.pop("JobID")

        state = JobStateType(d.pop("State"))

        timeout_at = isoparse(d.pop("TimeoutAt"))

        update_time = isoparse(d.pop("UpdateTime"))

        version = d.pop("Version")

        executions = []
        _executions = d.pop("Executions", UNSET)
        for executions_item_data in _executions or []:
            executions_item = ExecutionState.from_dict(executions_item_data)

            executions.append(executions_item)

        job_state = cls(
            create_time=create_time,
            job_id=job_id,
            state=state,
            timeout_at=timeout_at,
            update_time=update_time,
            version=version,
            executions=executions,
        )

        job_state.additional_properties = d
        return job_state

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
