from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Capacity")


@_attrs_define
class Capacity:
    """Resources as numbers: what a node has or what a job needs. Serialized as Bacalhau's
    `ResourceUsageData` (`CPU` in cores, `Memory` and `Disk` in bytes, `GPU` a count).

        Attributes:
            cpu (Union[Unset, float]): CPU cores (fractions allowed).
            disk (Union[Unset, int]): Disk in bytes.
            gpu (Union[Unset, int]): GPUs.
            memory (Union[Unset, int]): Memory in bytes.
    """

    cpu: Union[Unset, float] = UNSET
    disk: Union[Unset, int] = UNSET
    gpu: Union[Unset, int] = UNSET
    memory: Union[Unset, int] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cpu = self.cpu

        disk = self.disk

        gpu = self.gpu

        memory = self.memory

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if cpu is not UNSET:
            field_dict["CPU"] = cpu
        if disk is not UNSET:
            field_dict["Disk"] = disk
        if gpu is not UNSET:
            field_dict["GPU"] = gpu
        if memory is not UNSET:
            field_dict["Memory"] = memory

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        cpu = d.pop("CPU", UNSET)

        disk = d.pop("Disk", UNSET)

        gpu = d.pop("GPU", UNSET)

        memory = d.pop("Memory", UNSET)

        capacity = cls(
            cpu=cpu,
            disk=disk,
            gpu=gpu,
            memory=memory,
        )

        capacity.additional_properties = d
        return capacity

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
