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

T = TypeVar("T", bound="StateRequest")


@_attrs_define
class StateRequest:
    """`states` and `results` request.

    Attributes:
        job_id (str): Full id or unique prefix (≥ 8 characters).
        after_version (Union[None, Unset, int]): Extension (long-poll): answer once `Version` is greater than this.
        client_id (Union[Unset, str]): Logged only.
        wait_seconds (Union[None, Unset, float]): Extension (long-poll): wait at most this many seconds (more counts as
            60).
    """

    job_id: str
    after_version: Union[None, Unset, int] = UNSET
    client_id: Union[Unset, str] = UNSET
    wait_seconds: Union[None, Unset, float] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        job_id = self.job_id

        after_version: Union[None, Unset, int]
        if isinstance(self.after_version, Unset):
            after_version = UNSET
        else:
            after_version = self.after_version

        client_id = self.client_id

        wait_seconds: Union[None, Unset, float]
        if isinstance(self.wait_seconds, Unset):
            wait_seconds = UNSET
        else:
            wait_seconds = self.wait_seconds

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "job_id": job_id,
            }
        )
        if after_version is not UNSET:
            field_dict["after_version"] = after_version
        if client_id is not UNSET:
            field_dict["client_id"] = client_id
        if wait_seconds is not UNSET:
            field_dict["wait_seconds"] = wait_seconds

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        job_id = d.pop("job_id")

        def _parse_after_version(data: object) -> Union[None, Unset, int]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, int], data)

        after_version = _parse_after_version(d.pop("after_version", UNSET))

        client_id = d.pop("client_id", UNSET)

        def _parse_wait_seconds(data: object) -> Union[None, Unset, float]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, float], data)

        wait_seconds = _parse_wait_seconds(d.pop("wait_seconds", UNSET))

        state_request = cls(
            job_id=job_id,
            after_version=after_version,
            client_id=client_id,
            wait_seconds=wait_seconds,
        )

        state_request.additional_properties = d
        return state_request

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
