from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="EventFilterOptions")


@_attrs_define
class EventFilterOptions:
    """`events` filters.

    Attributes:
        exclude_execution_level (Union[Unset, bool]): Drop execution-level records. Default: False.
        exclude_job_level (Union[Unset, bool]): Drop job-level records. Default: False.
        since (Union[Unset, int]): Keep records at or after this unix second. Default: 0.
    """

    exclude_execution_level: Union[Unset, bool] = False
    exclude_job_level: Union[Unset, bool] = False
    since: Union[Unset, int] = 0
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        exclude_execution_level = self.exclude_execution_level

        exclude_job_level = self.exclude_job_level

        since = self.since

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if exclude_execution_level is not UNSET:
            field_dict["exclude_execution_level"] = exclude_execution_level
        if exclude_job_level is not UNSET:
            field_dict["exclude_job_level"] = exclude_job_level
        if since is not UNSET:
            field_dict["since"] = since

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        exclude_execution_level = d.pop("exclude_execution_level", UNSET)

        exclude_job_level = d.pop("exclude_job_level", UNSET)

        since = d.pop("since", UNSET)

        event_filter_options = cls(
            exclude_execution_level=exclude_execution_level,
            exclude_job_level=exclude_job_level,
            since=since,
        )

        event_filter_options.additional_properties = d
        return event_filter_options

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
