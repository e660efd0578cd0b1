import datetime
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
from dateutil.parser import isoparse

from ..models.history_type import HistoryType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.state_change_execution_state_type import StateChangeExecutionStateType
    from ..models.state_change_job_state_type import StateChangeJobStateType


T = TypeVar("T", bound="JobHistory")


@_attrs_define
class JobHistory:
    """One entry of a job's history.

    Attributes:
        job_id (str): The job id.
        new_version (int): The version after the change.
        time (datetime.datetime): When.
        type_ (HistoryType): Whether a history record is about the job or one execution.
        comment (Union[Unset, str]): Why.
        compute_reference (Union[Unset, str]): The execution id (execution-level records).
        execution_state (Union['StateChangeExecutionStateType', None, Unset]):
        job_state (Union['StateChangeJobStateType', None, Unset]):
        node_id (Union[Unset, str]): The node (execution-level records).
    """

    job_id: str
    new_version: int
    time: datetime.datetime
    type_: HistoryType
    comment: Union[Unset, str] = UNSET
    compute_reference: Union[Unset, str] = UNSET
    execution_state: Union["StateChangeExecutionStateType", None, Unset] = UNSET
    job_state: Union["StateChangeJobStateType", None, Unset] = UNSET
    node_id: Union[Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.state_change_execution_state_type import (
            StateChangeExecutionStateType,
        )
        from ..models.state_change_job_state_type import StateChangeJobStateType

        job_id = self.job_id

        new_version = self.new_version

        time = self.time.isoformat()

        type_ = self.type_.value

        comment = self.comment

        compute_reference = self.compute_reference

        execution_state: Union[None, Unset, dict[str, Any]]
        if isinstance(self.execution_state, Unset):
            execution_state = UNSET
        elif isinstance(self.execution_state, StateChangeExecutionStateType):
            execution_state = self.execution_state.to_dict()
        else:
            execution_state = self.execution_state

        job_state: Union[None, Unset, dict[str, Any]]
        if isinstance(self.job_state, Unset):
            job_state = UNSET
        elif isinstance(self.job_state, StateChangeJobStateType):
            job_state = self.job_state.to_dict()
        else:
            job_state = self.job_state

        node_id = self.node_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "JobID": job_id,
                "NewVersion": new_version,
                "Time": time,
                "Type": type_,
            }
        )
        if comment is not UNSET:
            field_dict["Comment"] = comment
        if compute_reference is not UNSET:
            field_dict["ComputeReference"] = compute_reference
        if execution_state is not UNSET:
            field_dict["ExecutionState"] = execution_state
        if job_state is not UNSET:
            field_dict["JobState"] = job_state
        if node_id is not UNSET:
            field_dict["NodeID"] = node_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.state_change_execution_state_type import (
            StateChangeExecutionStateType,
        )
        from ..models.state_change_job_state_type import StateChangeJobStateType

        d = dict(src_dict)
        job_id = d.pop("JobID")

        new_version = d.pop("NewVersion")

        time = isoparse(d.pop("Time"))

        type_ = HistoryType(d.pop("Type"))

        comment = d.pop("Comment", UNSET)

        compute_reference = d.pop("ComputeReference", UNSET)

        def _parse_execution_state(
            data: object,
        ) -> Union["StateChangeExecutionStateType", None, Unset]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                execution_state_type_1 = StateChangeExecutionStateType.from_dict(data)

                return execution_state_type_1
            except:  # noqa: E722
                pass
            return cast(Union["StateChangeExecutionStateType", None, Unset], data)

        execution_state = _parse_execution_state(d.pop("ExecutionState", UNSET))

        def _parse_job_state(
            data: object,
        ) -> Union["StateChangeJobStateType", None, Unset]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                job_state_type_1 = StateChangeJobStateType.from_dict(data)

                return job_state_type_1
            except:  # noqa: E722
                pass
            return cast(Union["StateChangeJobStateType", None, Unset], data)

        job_state = _parse_job_state(d.pop("JobState", UNSET))

        node_id = d.pop("NodeID", UNSET)

        job_history = cls(
            job_id=job_id,
            new_version=new_version,
            time=time,
            type_=type_,
            comment=comment,
            compute_reference=compute_reference,
            execution_state=execution_state,
            job_state=job_state,
            node_id=node_id,
        )

        job_history.additional_properties = d
        return job_history

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
