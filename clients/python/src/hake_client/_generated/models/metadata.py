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

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.requester_info import RequesterInfo


T = TypeVar("T", bound="Metadata")


@_attrs_define
class Metadata:
    """Who submitted a job and when. The server fills every field.

    Attributes:
        client_id (Union[Unset, str]): The submitting client (hex SHA-256 of its key material).
        created_at (Union[Unset, datetime.datetime]): When the job was created.
        id (Union[Unset, str]): The job id (a UUIDv4).
        requester (Union[Unset, RequesterInfo]): The node that accepted a job.
    """

    client_id: Union[Unset, str] = UNSET
    created_at: Union[Unset, datetime.datetime] = UNSET
    id: Union[Unset, str] = UNSET
    requester: Union[Unset, "RequesterInfo"] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        client_id = self.client_id

        created_at: Union[Unset, str] = UNSET
        if not isinstance(self.created_at, Unset):
            created_at = self.created_at.isoformat()

        id = self.id

        requester: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.requester, Unset):
            requester = self.requester.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if client_id is not UNSET:
            field_dict["ClientID"] = client_id
        if created_at is not UNSET:
            field_dict["CreatedAt"] = created_at
        if id is not UNSET:
            field_dict["ID"] = id
        if requester is not UNSET:
            field_dict["Requester"] = requester

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.requester_info import RequesterInfo

        d = dict(src_dict)
        client_id = d.pop("ClientID", UNSET)

        _created_at = d.pop("CreatedAt", UNSET)
        created_at: Union[Unset, datetime.datetime]
        if isinstance(_created_at, Unset):
            created_at = UNSET
        else:
            created_at = isoparse(_created_at)

        id = d.pop("ID", UNSET)

        _requester = d.pop("Requester", UNSET)
        requester: Union[Unset, RequesterInfo]
        if isinstance(_requester, Unset):
            requester = UNSET
        else:
            requester = RequesterInfo.from_dict(_requester)

        metadata = cls(
            client_id=client_id,
            created_at=created_at,
            id=id,
            requester=requester,
        )

        metadata.additional_properties = d
        return metadata

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
