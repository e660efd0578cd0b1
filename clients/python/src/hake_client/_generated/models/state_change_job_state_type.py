from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.state_change_job_state_type_new import StateChangeJobStateTypeNew
from ..models.state_change_job_state_type_previous import (
    StateChangeJobStateTypePrevious,
)
from ..types import UNSET, Unset

T = TypeVar("T", bound="StateChangeJobStateType")


@_attrs_define
class StateChangeJobStateType:
    """A state change; `New` is omitted like Go's zero value.

    Attributes:
        new (Union[Unset, StateChangeJobStateTypeNew]): The state of a job.
        previous (Union[Unset, StateChangeJobStateTypePrevious]): The state of a job.
    """

    new: Union[Unset, StateChangeJobStateTypeNew] = UNSET
    previous: Union[Unset, StateChangeJobStateTypePrevious] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        new: Union[Unset, str] = UNSET
        if not isinstance(self.new, Unset):
            new = self.new.value

        previous: Union[Unset, str] = UNSET
        if not isinstance(self.previous, Unset):
            previous = self.previous.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if new is not UNSET:
            field_dict["New"] = new
        if previous is not UNSET:
            field_dict["Previous"] = previous

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _new = d.pop("New", UNSET)
        new: Union[Unset, StateChangeJobStateTypeNew]
        if isinstance(_new, Unset):
            new = UNSET
        else:
            new = StateChangeJobStateTypeNew(_new)

        _previous = d.pop("Previous", UNSET)
        previous: Union[Unset, StateChangeJobStateTypePrevious]
        if isinstance(_previous, Unset):
            previous = UNSET
        else:
            previous = StateChangeJobStateTypePrevious(_previous)

        state_change_job_state_type = cls(
            new=new,
            previous=previous,
        )

        state_change_job_state_type.additional_properties = d
        return state_change_job_state_type

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
