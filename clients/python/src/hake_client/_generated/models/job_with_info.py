from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    TypeVar,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.job import Job
    from ..models.job_state import JobState


T = TypeVar("T", bound="JobWithInfo")


@_attrs_define
class JobWithInfo:
    """A job with its state.

    Attributes:
        job (Job): A job: what was asked for and who asked.
        state (JobState): The state of a job and its executions.
    """

    job: "Job"
    state: "JobState"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        job = self.job.to_dict()

        state = self.state.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "Job": job,
                "State": state,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job import Job
        from ..models.job_state import JobState

        d = dict(src_dict)
        job = Job.from_dict(d.pop("Job"))

        state = JobState.from_dict(d.pop("State"))

        job_with_info = cls(
            job=job,
            state=state,
        )

        job_with_info.additional_properties = d
        return job_with_info

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
