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

T = TypeVar("T", bound="SandboxStatus")


@_attrs_define
class SandboxStatus:
    """What this node enforces on Exec jobs (shown in `/node_info`).

    Attributes:
        landlock (bool): Whether Landlock confines Exec jobs (`--exec-sandbox on`).
        landlock_abi (int): The kernel's Landlock ABI (0: none).
        pass_env (list[str]): Environment variables passed from the server on purpose (`--exec-pass-env`).
        signal_scoping (bool): Whether jobs cannot signal processes outside their sandbox (Landlock ABI 6 or later).
        tcp_rules (bool): Whether `Network: None` denies TCP connect and bind (Landlock ABI 4 or later).
        user (Union[None, Unset, str]): The user Exec jobs run as (`--exec-user`), when not the server's.
    """

    landlock: bool
    landlock_abi: int
    pass_env: list[str]
    signal_scoping: bool
    tcp_rules: bool
    user: Union[None, Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        landlock = self.landlock

        landlock_abi = self.landlock_abi

        pass_env = self.pass_env

        signal_scoping = self.signal_scoping

        tcp_rules = self.tcp_rules

        user: Union[None, Unset, str]
        if isinstance(self.user, Unset):
            user = UNSET
        else:
            user = self.user

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "Landlock": landlock,
                "LandlockABI": landlock_abi,
                "PassEnv": pass_env,
                "SignalScoping": signal_scoping,
                "TcpRules": tcp_rules,
            }
        )
        if user is not UNSET:
            field_dict["User"] = user

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        landlock = d.pop("Landlock")

        landlock_abi = d.pop("LandlockABI")

        pass_env = cast(list[str], d.pop("PassEnv"))

        signal_scoping = d.pop("SignalScoping")

        tcp_rules = d.pop("TcpRules")

        def _parse_user(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        user = _parse_user(d.pop("User", UNSET))

        sandbox_status = cls(
            landlock=landlock,
            landlock_abi=landlock_abi,
            pass_env=pass_env,
            signal_scoping=signal_scoping,
            tcp_rules=tcp_rules,
            user=user,
        )

        sandbox_status.additional_properties = d
        return sandbox_status

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
