from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.network import Network
from ..types import UNSET, Unset

T = TypeVar("T", bound="NetworkConfig")


@_attrs_define
class NetworkConfig:
    """Network access of a job.

    Attributes:
        domains (Union[Unset, list[str]]): Allowed domains for HTTP.
        type_ (Union[Unset, Network]): Network access of a job.
    """

    domains: Union[Unset, list[str]] = UNSET
    type_: Union[Unset, Network] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        domains: Union[Unset, list[str]] = UNSET
        if not isinstance(self.domains, Unset):
            domains = self.domains

        type_: Union[Unset, str] = UNSET
        if not isinstance(self.type_, Unset):
            type_ = self.type_.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if domains is not UNSET:
            field_dict["Domains"] = domains
        if type_ is not UNSET:
            field_dict["Type"] = type_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        domains = cast(list[str], d.pop("Domains", UNSET))

        _type_ = d.pop("Type", UNSET)
        type_: Union[Unset, Network]
        if isinstance(_type_, Unset):
            type_ = UNSET
        else:
            type_ = Network(_type_)

        network_config = cls(
            domains=domains,
            type_=type_,
        )

        network_config.additional_properties = d
        return network_config

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
