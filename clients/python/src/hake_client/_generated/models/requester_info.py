from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="RequesterInfo")


@_attrs_define
class RequesterInfo:
    """The node that accepted a job.

    Attributes:
        requester_node_id (Union[Unset, str]): The node id.
        requester_public_key (Union[Unset, str]): The node's public key (base64); hake leaves it empty.
    """

    requester_node_id: Union[Unset, str] = UNSET
    requester_public_key: Union[Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        requester_node_id = self.requester_node_id

        requester_public_key = self.requester_public_key

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if requester_node_id is not UNSET:
            field_dict["RequesterNodeID"] = requester_node_id
        if requester_public_key is not UNSET:
            field_dict["RequesterPublicKey"] = requester_public_key

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        requester_node_id = d.pop("RequesterNodeID", UNSET)

        requester_public_key = d.pop("RequesterPublicKey", UNSET)

        requester_info = cls(
            requester_node_id=requester_node_id,
            requester_public_key=requester_public_key,
        )

        requester_info.additional_properties = d
        return requester_info

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
