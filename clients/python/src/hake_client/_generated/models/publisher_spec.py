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

from ..models.publisher import Publisher
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.publisher_spec_params import PublisherSpecParams


T = TypeVar("T", bound="PublisherSpec")


@_attrs_define
class PublisherSpec:
    """Publisher type and parameters.

    Attributes:
        params (Union[Unset, PublisherSpecParams]): Publisher-specific parameters.
        type_ (Union[None, Publisher, Unset]):
    """

    params: Union[Unset, "PublisherSpecParams"] = UNSET
    type_: Union[None, Publisher, Unset] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        params: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.params, Unset):
            params = self.params.to_dict()

        type_: Union[None, Unset, str]
        if isinstance(self.type_, Unset):
            type_ = UNSET
        elif isinstance(self.type_, Publisher):
            type_ = self.type_.value
        else:
            type_ = self.type_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if params is not UNSET:
            field_dict["Params"] = params
        if type_ is not UNSET:
            field_dict["Type"] = type_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.publisher_spec_params import PublisherSpecParams

        d = dict(src_dict)
        _params = d.pop("Params", UNSET)
        params: Union[Unset, PublisherSpecParams]
        if isinstance(_params, Unset):
            params = UNSET
        else:
            params = PublisherSpecParams.from_dict(_params)

        def _parse_type_(data: object) -> Union[None, Publisher, Unset]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                type_type_1 = Publisher(data)

                return type_type_1
            except:  # noqa: E722
                pass
            return cast(Union[None, Publisher, Unset], data)

        type_ = _parse_type_(d.pop("Type", UNSET))

        publisher_spec = cls(
            params=params,
            type_=type_,
        )

        publisher_spec.additional_properties = d
        return publisher_spec

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
