from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    TypeVar,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.storage_spec import StorageSpec


T = TypeVar("T", bound="PublishedResult")


@_attrs_define
class PublishedResult:
    """A published result of a completed execution.

    Attributes:
        data (StorageSpec): Where data lives, and where it is mounted.
        node_id (str): The node that produced it.
    """

    data: "StorageSpec"
    node_id: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = self.data.to_dict()

        node_id = self.node_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "Data": data,
                "NodeID": node_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.storage_spec import StorageSpec

        d = dict(src_dict)
        data = StorageSpec.from_dict(d.pop("Data"))

        node_id = d.pop("NodeID")

        published_result = cls(
            data=data,
            node_id=node_id,
        )

        published_result.additional_properties = d
        return published_result

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
