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
    from ..models.log_end import LogEnd
    from ..models.log_gap import LogGap


T = TypeVar("T", bound="LogFrame")


@_attrs_define
class LogFrame:
    """One record of a log stream: an NDJSON line, or the `data:` of an SSE event. `Tag` 1
    and 2 carry a line of stdout or stderr; `Tag` 0 carries exactly one of `Gap`,
    `Heartbeat` or `End` (always the last record).

        Attributes:
            tag (int): 0 control, 1 stdout, 2 stderr.
            data (Union[None, Unset, str]): The line (lossy UTF-8, with its newline when it had one).
            end (Union['LogEnd', None, Unset]):
            gap (Union['LogGap', None, Unset]):
            heartbeat (Union[None, Unset, bool]): Sent after a period of silence.
            seq (Union[None, Unset, int]): The record's position in the execution's log (from 0, over both streams).
            time (Union[None, Unset, str]): Arrival time, RFC 3339 with nanoseconds.
    """

    tag: int
    data: Union[None, Unset, str] = UNSET
    end: Union["LogEnd", None, Unset] = UNSET
    gap: Union["LogGap", None, Unset] = UNSET
    heartbeat: Union[None, Unset, bool] = UNSET
    seq: Union[None, Unset, int] = UNSET
    time: Union[None, Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.log_end import LogEnd
        from ..models.log_gap import LogGap

        tag = self.tag

        data: Union[None, Unset, str]
        if isinstance(self.data, Unset):
            data = UNSET
        else:
            data = self.data

        end: Union[None, Unset, dict[str, Any]]
        if isinstance(self.end, Unset):
            end = UNSET
        elif isinstance(self.end, LogEnd):
            end = self.end.to_dict()
        else:
            end = self.end

        gap: Union[None, Unset, dict[str, Any]]
        if isinstance(self.gap, Unset):
            gap = UNSET
        elif isinstance(self.gap, LogGap):
            gap = self.gap.to_dict()
        else:
            gap = self.gap

        heartbeat: Union[None, Unset, bool]
        if isinstance(self.heartbeat, Unset):
            heartbeat = UNSET
        else:
            heartbeat = self.heartbeat

        seq: Union[None, Unset, int]
        if isinstance(self.seq, Unset):
            seq = UNSET
        else:
            seq = self.seq

        time: Union[None, Unset, str]
        if isinstance(self.time, Unset):
            time = UNSET
        else:
            time = self.time

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "Tag": tag,
            }
        )
        if data is not UNSET:
            field_dict["Data"] = data
        if end is not UNSET:
            field_dict["End"] = end
        if gap is not UNSET:
            field_dict["Gap"] = gap
        if heartbeat is not UNSET:
            field_dict["Heartbeat"] = heartbeat
        if seq is not UNSET:
            field_dict["Seq"] = seq
        if time is not UNSET:
            field_dict["Time"] = time

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.log_end import LogEnd
        from ..models.log_gap import LogGap

        d = dict(src_dict)
        tag = d.pop("Tag")

        def _parse_data(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        data = _parse_data(d.pop("Data", UNSET))

        def _parse_end(data: object) -> Union["LogEnd", None, Unset]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                end_type_1 = LogEnd.from_dict(data)

                return end_type_1
            except:  # noqa: E722
                pass
            return cast(Union["LogEnd", None, Unset], data)

        end = _parse_end(d.pop("End", UNSET))

        def _parse_gap(data: object) -> Union["LogGap", None, Unset]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                gap_type_1 = LogGap.from_dict(data)

                return gap_type_1
            except:  # noqa: E722
                pass
            return cast(Union["LogGap", None, Unset], data)

        gap = _parse_gap(d.pop("Gap", UNSET))

        def _parse_heartbeat(data: object) -> Union[None, Unset, bool]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, bool], data)

        heartbeat = _parse_heartbeat(d.pop("Heartbeat", UNSET))

        def _parse_seq(data: object) -> Union[None, Unset, int]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, int], data)

        seq = _parse_seq(d.pop("Seq", UNSET))

        def _parse_time(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        time = _parse_time(d.pop("Time", UNSET))

        log_frame = cls(
            tag=tag,
            data=data,
            end=end,
            gap=gap,
            heartbeat=heartbeat,
            seq=seq,
            time=time,
        )

        log_frame.additional_properties = d
        return log_frame

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
