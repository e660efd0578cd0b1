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
    from ..models.exec_spec_environment_variables import ExecSpecEnvironmentVariables


T = TypeVar("T", bound="ExecSpec")


@_attrs_define
class ExecSpec:
    """Extension: a host process.

    Attributes:
        command (Union[Unset, list[str]]): Program and arguments.
        environment_variables (Union[Unset, ExecSpecEnvironmentVariables]): Extra environment variables.
        working_directory (Union[Unset, str]): Working directory; the execution's scratch directory when empty.
    """

    command: Union[Unset, list[str]] = UNSET
    environment_variables: Union[Unset, "ExecSpecEnvironmentVariables"] = UNSET
    working_directory: Union[Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        command: Union[Unset, list[str]] = UNSET
        if not isinstance(self.command, Unset):
            command = self.command

        environment_variables: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.environment_variables, Unset):
            environment_variables = self.environment_variables.to_dict()

        working_directory = self.working_directory

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if command is not UNSET:
            field_dict["Command"] = command
        if environment_variables is not UNSET:
            field_dict["EnvironmentVariables"] = environment_variables
        if working_directory is not UNSET:
            field_dict["WorkingDirectory"] = working_directory

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.exec_spec_environment_variables import (
            ExecSpecEnvironmentVariables,
        )

        d = dict(src_dict)
        command = cast(list[str], d.pop("Command", UNSET))

        _environment_variables = d.pop("EnvironmentVariables", UNSET)
        environment_variables: Union[Unset, ExecSpecEnvironmentVariables]
        if isinstance(_environment_variables, Unset):
            environment_variables = UNSET
        else:
            environment_variables = ExecSpecEnvironmentVariables.from_dict(
                _environment_variables
            )

        working_directory = d.pop("WorkingDirectory", UNSET)

        exec_spec = cls(
            command=command,
            environment_variables=environment_variables,
            working_directory=working_directory,
        )

        exec_spec.additional_properties = d
        return exec_spec

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
