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
    from ..models.metadata import Metadata
    from ..models.spec import Spec


T = TypeVar("T", bound="Job")


@_attrs_define
class Job:
    """A job: what was asked for and who asked.

    Attributes:
        api_version (Union[Unset, str]): Always `V1beta1`.
        metadata (Union[Unset, Metadata]): Who submitted a job and when. The server fills every field.
        spec (Union[Unset, Spec]): What to run and how.
    """

    api_version: Union[Unset, str] = UNSET
    metadata: Union[Unset, "Metadata"] = UNSET
    spec: Union[Unset, "Spec"] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        api_version = self.api_version

        metadata: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        spec: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.spec, Unset):
            spec = self.spec.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if api_version is not UNSET:
            field_dict["APIVersion"] = api_version
        if metadata is not UNSET:
            field_dict["Metadata"] = metadata
        if spec is not UNSET:
            field_dict["Spec"] = spec

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metadata import Metadata
        from ..models.spec import Spec

        d = dict(src_dict)
        api_version = d.pop("APIVersion", UNSET)

        _metadata = d.pop("Metadata", UNSET)
        metadata: Union[Unset, Metadata]
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = Metadata.from_dict(_metadata)

        _spec = d.pop("Spec", UNSET)
        spec: Union[Unset, Spec]
        if isinstance(_spec, Unset):
            spec = UNSET
        else:
            spec = Spec.from_dict(_spec)

        job = cls(
            api_version=api_version,
            metadata=metadata,
            spec=spec,
        )

        job.additional_properties = d
        return job

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
