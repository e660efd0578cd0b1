from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    TypeVar,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.build_version_info import BuildVersionInfo


T = TypeVar("T", bound="VersionResponse")


@_attrs_define
class VersionResponse:
    """`version` answer.

    Attributes:
        build_version_info (BuildVersionInfo): Build facts in Bacalhau's shape.
    """

    build_version_info: "BuildVersionInfo"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        build_version_info = self.build_version_info.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "build_version_info": build_version_info,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.build_version_info import BuildVersionInfo

        d = dict(src_dict)
        build_version_info = BuildVersionInfo.from_dict(d.pop("build_version_info"))

        version_response = cls(
            build_version_info=build_version_info,
        )

        version_response.additional_properties = d
        return version_response

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
