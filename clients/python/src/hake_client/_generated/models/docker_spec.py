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

T = TypeVar("T", bound="DockerSpec")


@_attrs_define
class DockerSpec:
    """Docker engine parameters.

    Attributes:
        entrypoint (Union[Unset, list[str]]): The command to run (replaces the image's entrypoint).
        environment_variables (Union[Unset, list[str]]): `KEY=VALUE` pairs.
        image (Union[Unset, str]): The image; pulled from its registry when it is not on the node (per the node's
            `--docker-pull`).
        parameters (Union[Unset, list[str]]): Extension: arguments appended after the entrypoint (the image's CMD).
        working_directory (Union[Unset, str]): The working directory inside the container.
    """

    entrypoint: Union[Unset, list[str]] = UNSET
    environment_variables: Union[Unset, list[str]] = UNSET
    image: Union[Unset, str] = UNSET
    parameters: Union[Unset, list[str]] = UNSET
    working_directory: Union[Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        entrypoint: Union[Unset, list[str]] = UNSET
        if not isinstance(self.entrypoint, Unset):
            entrypoint = self.entrypoint

        environment_variables: Union[Unset, list[str]] = UNSET
        if not isinstance(self.environment_variables, Unset):
            environment_variables = self.environment_variables

        image = self.image

        parameters: Union[Unset, list[str]] = UNSET
        if not isinstance(self.parameters, Unset):
            parameters = self.parameters

        working_directory = self.working_directory

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if entrypoint is not UNSET:
            field_dict["Entrypoint"] = entrypoint
        if environment_variables is not UNSET:
            field_dict["EnvironmentVariables"] = environment_variables
        if image is not UNSET:
            field_dict["Image"] = image
        if parameters is not UNSET:
            field_dict["Parameters"] = parameters
        if working_directory is not UNSET:
            field_dict["WorkingDirectory"] = working_directory

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        entrypoint = cast(list[str], d.pop("Entrypoint", UNSET))

        environment_variables = cast(list[str], d.pop("EnvironmentVariables", UNSET))

        image = d.pop("Image", UNSET)

        parameters = cast(list[str], d.pop("Parameters", UNSET))

        working_directory = d.pop("WorkingDirectory", UNSET)

        docker_spec = cls(
            entrypoint=entrypoint,
            environment_variables=environment_variables,
            image=image,
            parameters=parameters,
            working_directory=working_directory,
        )

        docker_spec.additional_properties = d
        return docker_spec

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
