from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Deal")


@_attrs_define
class Deal:
    """How many executions to run.

    Attributes:
        concurrency (Union[Unset, int]): Executions to run (≥ 1).
        confidence (Union[Unset, int]): Completed executions needed for `Completed` (0 means all).
        min_bids (Union[Unset, int]): Minimum bids (accepted, not used by a single node).
    """

    concurrency: Union[Unset, int] = UNSET
    confidence: Union[Unset, int] = UNSET
    min_bids: Union[Unset, int] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        concurrency = self.concurrency

        confidence = self.confidence

        min_bids = self.min_bids

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if concurrency is not UNSET:
            field_dict["Concurrency"] = concurrency
        if confidence is not UNSET:
            field_dict["Confidence"] = confidence
        if min_bids is not UNSET:
            field_dict["MinBids"] = min_bids

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        concurrency = d.pop("Concurrency", UNSET)

        confidence = d.pop("Confidence", UNSET)

        min_bids = d.pop("MinBids", UNSET)

        deal = cls(
            concurrency=concurrency,
            confidence=confidence,
            min_bids=min_bids,
        )

        deal.additional_properties = d
        return deal

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
