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

T = TypeVar("T", bound="LogEnd")


@_attrs_define
class LogEnd:
    """Why the stream ended.

    Attributes:
        reason (str): `completed`, `failed`, `cancelled`, `timed_out`, `server_shutdown`; without
            `Follow`: `caught_up` (the execution still runs) or `not_started` (no execution
            yet); `error` when the server could not read the log.
        state (str): The execution's state (the job's when it has no execution).
        exit_code (Union[None, Unset, int]): The exit code, when the execution has a RunOutput.
    """

    reason: str
    state: str
    exit_code: Union[None, Unset, int] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        reason = self.reason

        state = self.state

        exit_code: Union[None, Unset, int]
        if isinstance(self.exit_code, Unset):
            exit_code = UNSET
        else:
            exit_code = self.exit_code

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "Reason": reason,
                "State": state,
            }
        )
        if exit_code is not UNSET:
            field_dict["ExitCode"] = exit_code

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        reason = d.pop("Reason")

        state = d.pop("State")

        def _parse_exit_code(data: object) -> Union[None, Unset, int]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, int], data)

        exit_code = _parse_exit_code(d.pop("ExitCode", UNSET))

        log_end = cls(
            reason=reason,
            state=state,
            exit_code=exit_code,
        )

        log_end.additional_properties = d
        return log_end

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
