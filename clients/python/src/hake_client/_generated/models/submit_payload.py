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

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.spec import Spec


T = TypeVar("T", bound="SubmitPayload")


@_attrs_define
class SubmitPayload:
    """Payload of `submit`.

    Attributes:
        api_version (Union[Unset, str]): `V1beta1`.
        client_id (Union[Unset, str]): The submitter (must match the key).
        nonce (Union[None, Unset, str]): Extension: a repeated nonce returns the original job.
        spec (Union['Spec', None, Unset]):
        timestamp (Union[None, Unset, int]): Extension: unix ms; outside ±window is refused.
    """

    api_version: Union[Unset, str] = UNSET
    client_id: Union[Unset, str] = UNSET
    nonce: Union[None, Unset, str] = UNSET
    spec: Union["Spec", None, Unset] = UNSET
    timestamp: Union[None, Unset, int] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.spec import Spec

        api_version = self.api_version

        client_id = self.client_id

        nonce: Union[None, Unset, str]
        if isinstance(self.nonce, Unset):
            nonce = UNSET
        else:
            nonce = self.nonce

        spec: Union[None, Unset, dict[str, Any]]
        if isinstance(self.spec, Unset):
            spec = UNSET
        elif isinstance(self.spec, Spec):
            spec = self.spec.to_dict()
        else:
            spec = self.spec

        timestamp: Union[None, Unset, int]
        if isinstance(self.timestamp, Unset):
            timestamp = UNSET
        else:
            timestamp = self.timestamp

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if api_version is not UNSET:
            field_dict["APIVersion"] = api_version
        if client_id is not UNSET:
            field_dict["ClientID"] = client_id
        if nonce is not UNSET:
            field_dict["Nonce"] = nonce
        if spec is not UNSET:
            field_dict["Spec"] = spec
        if timestamp is not UNSET:
            field_dict["Timestamp"] = timestamp

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.spec import Spec

        d = dict(src_dict)
        api_version = d.pop("APIVersion", UNSET)

        client_id = d.pop("ClientID", UNSET)

        def _parse_nonce(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        nonce = _parse_nonce(d.pop("Nonce", UNSET))

        def _parse_spec(data: object) -> Union["Spec", None, Unset]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                spec_type_1 = Spec.from_dict(data)

                return spec_type_1
            except:  # noqa: E722
                pass
            return cast(Union["Spec", None, Unset], data)

        spec = _parse_spec(d.pop("Spec", UNSET))

        def _parse_timestamp(data: object) -> Union[None, Unset, int]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, int], data)

        timestamp = _parse_timestamp(d.pop("Timestamp", UNSET))

        submit_payload = cls(
            api_version=api_version,
            client_id=client_id,
            nonce=nonce,
            spec=spec,
            timestamp=timestamp,
        )

        submit_payload.additional_properties = d
        return submit_payload

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
