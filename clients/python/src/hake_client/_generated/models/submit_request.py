from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    TypeVar,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.submit_payload import SubmitPayload


T = TypeVar("T", bound="SubmitRequest")


@_attrs_define
class SubmitRequest:
    """A signed `submit` request.

    Attributes:
        client_public_key (str): base64 of the 32-byte Ed25519 key, or of the DER PKCS#1 RSA public key.
        payload (SubmitPayload): Payload of `submit`.
        signature (str): base64 signature over the payload bytes exactly as sent.
    """

    client_public_key: str
    payload: "SubmitPayload"
    signature: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        client_public_key = self.client_public_key

        payload = self.payload.to_dict()

        signature = self.signature

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "client_public_key": client_public_key,
                "payload": payload,
                "signature": signature,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.submit_payload import SubmitPayload

        d = dict(src_dict)
        client_public_key = d.pop("client_public_key")

        payload = SubmitPayload.from_dict(d.pop("payload"))

        signature = d.pop("signature")

        submit_request = cls(
            client_public_key=client_public_key,
            payload=payload,
            signature=signature,
        )

        submit_request.additional_properties = d
        return submit_request

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
