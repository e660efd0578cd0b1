from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    TypeVar,
    Union,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.event_filter_options import EventFilterOptions


T = TypeVar("T", bound="EventsRequest")


@_attrs_define
class EventsRequest:
    """`events` request.

    Attributes:
        job_id (str): Full id or unique prefix (≥ 8 characters).
        client_id (Union[Unset, str]): Logged only.
        filters (Union[Unset, EventFilterOptions]): `events` filters.
    """

    job_id: str
    client_id: Union[Unset, str] = UNSET
    filters: Union[Unset, "EventFilterOptions"] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        job_id = self.job_id

        client_id = self.client_id

        filters: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.filters, Unset):
            filters = self.filters.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "job_id": job_id,
            }
        )
        if client_id is not UNSET:
            field_dict["client_id"] = client_id
        if filters is not UNSET:
            field_dict["filters"] = filters

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event_filter_options import EventFilterOptions

        d = dict(src_dict)
        job_id = d.pop("job_id")

        client_id = d.pop("client_id", UNSET)

        _filters = d.pop("filters", UNSET)
        filters: Union[Unset, EventFilterOptions]
        if isinstance(_filters, Unset):
            filters = UNSET
        else:
            filters = EventFilterOptions.from_dict(_filters)

        events_request = cls(
            job_id=job_id,
            client_id=client_id,
            filters=filters,
        )

        events_request.additional_properties = d
        return events_request

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
