from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CancelPayload")


@_attrs_define
class CancelPayload:
    """Payload of `cancel`.

    Attributes:
        client_id (Union[Unset, str]): The caller (must own the job).
        job_id (Union[Unset, str]): Full id or unique prefix (≥ 8 characters).
        nonce (Union[None, Unset, str]): Extension: nonce.
        reason (Union[Unset, str]): Why (recorded on the cancelled executions).
        timestamp (Union[None, Unset, int]): Extension: unix ms.
    """

    client_id: Union[Unset, str] = UNSET
    job_id: Union[Unset, str] = UNSET
    nonce: Union[None, Unset, str] = UNSET
    reason: Union[Unset, str] = UNSET
    timestamp: Union[None, Unset, int] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        client_id = self.client_id

        job_id = self.job_id

        nonce: Union[None, Unset, str]
        if isinstance(self.nonce, Unset):
            nonce = UNSET
        else:
            nonce = self.nonce

        reason = self.reason

        timestamp: Union[None, Unset, int]
        if isinstance(self.timestamp, Unset):
            timestamp = UNSET
        else:
            timestamp = self.timestamp

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if client_id is not UNSET:
            field_dict["ClientID"] = client_id
        if job_id is not UNSET:
            field_dict["JobID"] = job_id
        if nonce is not UNSET:
            field_dict["Nonce"] = nonce
        if reason is not UNSET:
            field_dict["Reason"] = reason
        if timestamp is not UNSET:
            field_dict["Timestamp"] = timestamp

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        client_id = d.pop("ClientID", UNSET)

        job_id = d.pop("JobID", UNSET)

        def _parse_nonce(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        nonce = _parse_nonce(d.pop("Nonce", UNSET))

        reason = d.pop("Reason", UNSET)

        def _parse_timestamp(data: object) -> Union[None, Unset, int]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, int], data)

        timestamp = _parse_timestamp(d.pop("Timestamp", UNSET))

        cancel_payload = cls(
            client_id=client_id,
            job_id=job_id,
            nonce=nonce,
            reason=reason,
            timestamp=timestamp,
        )

        cancel_payload.additional_properties = d
        return cancel_payload

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
