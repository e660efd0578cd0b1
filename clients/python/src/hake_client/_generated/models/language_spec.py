from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    TypeVar,
    Union,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.storage_spec import StorageSpec


T = TypeVar("T", bound="LanguageSpec")


@_attrs_define
class LanguageSpec:
    """Language engine parameters (Bacalhau's; hake refuses the Language engine).

    Attributes:
        command (Union[Unset, str]): The command.
        deterministic_execution (Union[Unset, bool]): Whether the run must be deterministic.
        job_context (Union[Unset, StorageSpec]): Where data lives, and where it is mounted.
        language (Union[Unset, str]): The language.
        language_version (Union[Unset, str]): Its version.
        program_path (Union[Unset, str]): The program path.
        requirements_path (Union[Unset, str]): The requirements path.
    """

    command: Union[Unset, str] = UNSET
    deterministic_execution: Union[Unset, bool] = UNSET
    job_context: Union[Unset, "StorageSpec"] = UNSET
    language: Union[Unset, str] = UNSET
    language_version: Union[Unset, str] = UNSET
    program_path: Union[Unset, str] = UNSET
    requirements_path: Union[Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        command = self.command

        deterministic_execution = self.deterministic_execution

        job_context: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.job_context, Unset):
            job_context = self.job_context.to_dict()

        language = self.language

        language_version = self.language_version

        program_path = self.program_path

        requirements_path = self.requirements_path

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if command is not UNSET:
            field_dict["Command"] = command
        if deterministic_execution is not UNSET:
            field_dict["DeterministicExecution"] = deterministic_execution
        if job_context is not UNSET:
            field_dict["JobContext"] = job_context
        if language is not UNSET:
            field_dict["Language"] = language
        if language_version is not UNSET:
            field_dict["LanguageVersion"] = language_version
        if program_path is not UNSET:
            field_dict["ProgramPath"] = program_path
        if requirements_path is not UNSET:
            field_dict["RequirementsPath"] = requirements_path

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.storage_spec import StorageSpec

        d = dict(src_dict)
        command = d.pop("Command", UNSET)

        deterministic_execution = d.pop("DeterministicExecution", UNSET)

        _job_context = d.pop("JobContext", UNSET)
        job_context: Union[Unset, StorageSpec]
        if isinstance(_job_context, Unset):
            job_context = UNSET
        else:
            job_context = StorageSpec.from_dict(_job_context)

        language = d.pop("Language", UNSET)

        language_version = d.pop("LanguageVersion", UNSET)

        program_path = d.pop("ProgramPath", UNSET)

        requirements_path = d.pop("RequirementsPath", UNSET)

        language_spec = cls(
            command=command,
            deterministic_execution=deterministic_execution,
            job_context=job_context,
            language=language,
            language_version=language_version,
            program_path=program_path,
            requirements_path=requirements_path,
        )

        language_spec.additional_properties = d
        return language_spec

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
