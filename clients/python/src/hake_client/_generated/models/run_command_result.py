from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="RunCommandResult")


@_attrs_define
class RunCommandResult:
    """Bounded output of a finished execution.

    Attributes:
        exit_code (Union[Unset, int]): The process exit code.
        runner_error (Union[Unset, str]): What went wrong outside the program, if anything.
        stderr (Union[Unset, str]): The first bytes of stderr.
        stderrtruncated (Union[Unset, bool]): Whether stderr was cut.
        stdout (Union[Unset, str]): The first bytes of stdout.
        stdouttruncated (Union[Unset, bool]): Whether stdout was cut.
    """

    exit_code: Union[Unset, int] = UNSET
    runner_error: Union[Unset, str] = UNSET
    stderr: Union[Unset, str] = UNSET
    stderrtruncated: Union[Unset, bool] = UNSET
    stdout: Union[Unset, str] = UNSET
    stdouttruncated: Union[Unset, bool] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        exit_code = self.exit_code

        runner_error = self.runner_error

        stderr = self.stderr

        stderrtruncated = self.stderrtruncated

        stdout = self.stdout

        stdouttruncated = self.stdouttruncated

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if exit_code is not UNSET:
            field_dict["exitCode"] = exit_code
        if runner_error is not UNSET:
            field_dict["runnerError"] = runner_error
        if stderr is not UNSET:
            field_dict["stderr"] = stderr
        if stderrtruncated is not UNSET:
            field_dict["stderrtruncated"] = stderrtruncated
        if stdout is not UNSET:
            field_dict["stdout"] = stdout
        if stdouttruncated is not UNSET:
            field_dict["stdouttruncated"] = stdouttruncated

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        exit_code = d.pop("exitCode", UNSET)

        runner_error = d.pop("runnerError", UNSET)

        stderr = d.pop("stderr", UNSET)

        stderrtruncated = d.pop("stderrtruncated", UNSET)

        stdout = d.pop("stdout", UNSET)

        stdouttruncated = d.pop("stdouttruncated", UNSET)

        run_command_result = cls(
            exit_code=exit_code,
            runner_error=runner_error,
            stderr=stderr,
            stderrtruncated=stderrtruncated,
            stdout=stdout,
            stdouttruncated=stdouttruncated,
        )

        run_command_result.additional_properties = d
        return run_command_result

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
