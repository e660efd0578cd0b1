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

T = TypeVar("T", bound="LogsPayload")


@_attrs_define
class LogsPayload:
    """Payload of `logs`: Bacalhau's fields plus hake's optional extensions.

    Attributes:
        after_seq (Union[None, Unset, int]): Extension: start after this seq (resume); negative means no constraint.
        client_id (Union[Unset, str]): The caller (must own the job).
        execution_id (Union[Unset, str]): The execution (`ComputeReference`); the job's latest when empty.
        follow (Union[Unset, bool]): Keep the stream open until the execution is terminal, waiting for the job to be
            scheduled and started if needed.
        job_id (Union[Unset, str]): Full id or unique prefix (≥ 8 characters).
        nonce (Union[None, Unset, str]): Extension: nonce.
        since_ms (Union[None, Unset, int]): Extension: only records that arrived at or after this unix time in ms.
        stream (Union[None, Unset, str]): Extension: `stdout`, `stderr` or `all` (default).
        tail (Union[None, Unset, int]): Extension: start at the last N lines (after the other filters).
        timestamp (Union[None, Unset, int]): Extension: unix ms.
        with_history (Union[None, Unset, bool]): Start from the first record (default true); false starts at the live
            tail.
    """

    after_seq: Union[None, Unset, int] = UNSET
    client_id: Union[Unset, str] = UNSET
    execution_id: Union[Unset, str] = UNSET
    follow: Union[Unset, bool] = UNSET
    job_id: Union[Unset, str] = UNSET
    nonce: Union[None, Unset, str] = UNSET
    since_ms: Union[None, Unset, int] = UNSET
    stream: Union[None, Unset, str] = UNSET
    tail: Union[None, Unset, int] = UNSET
    timestamp: Union[None, Unset, int] = UNSET
    with_history: Union[None, Unset, bool] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        after_seq: Union[None, Unset, int]
        if isinstance(self.after_seq, Unset):
            after_seq = UNSET
        else:
            after_seq = self.after_seq

        client_id = self.client_id

        execution_id = self.execution_id

        follow = self.follow

        job_id = self.job_id

        nonce: Union[None, Unset, str]
        if isinstance(self.nonce, Unset):
            nonce = UNSET
        else:
            nonce = self.nonce

        since_ms: Union[None, Unset, int]
        if isinstance(self.since_ms, Unset):
            since_ms = UNSET
        else:
            since_ms = self.since_ms

        stream: Union[None, Unset, str]
        if isinstance(self.stream, Unset):
            stream = UNSET
        else:
            stream = self.stream

        tail: Union[None, Unset, int]
        if isinstance(self.tail, Unset):
            tail = UNSET
        else:
            tail = self.tail

        timestamp: Union[None, Unset, int]
        if isinstance(self.timestamp, Unset):
            timestamp = UNSET
        else:
            timestamp = self.timestamp

        with_history: Union[None, Unset, bool]
        if isinstance(self.with_history, Unset):
            with_history = UNSET
        else:
            with_history = self.with_history

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if after_seq is not UNSET:
            field_dict["AfterSeq"] = after_seq
        if client_id is not UNSET:
            field_dict["ClientID"] = client_id
        if execution_id is not UNSET:
            field_dict["ExecutionID"] = execution_id
        if follow is not UNSET:
            field_dict["Follow"] = follow
        if job_id is not UNSET:
            field_dict["JobID"] = job_id
        if nonce is not UNSET:
            field_dict["Nonce"] = nonce
        if since_ms is not UNSET:
            field_dict["SinceMs"] = since_ms
        if stream is not UNSET:
            field_dict["Stream"] = stream
        if tail is not UNSET:
            field_dict["Tail"] = tail
        if timestamp is not UNSET:
            field_dict["Timestamp"] = timestamp
        if with_history is not UNSET:
            field_dict["WithHistory"] = with_history

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_after_seq(data: object) -> Union[None, Unset, int]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, int], data)

        after_seq = _parse_after_seq(d.pop("AfterSeq", UNSET))

        client_id = d.pop("ClientID", UNSET)

        execution_id = d.pop("ExecutionID", UNSET)

        follow = d.pop("Follow", UNSET)

        job_id = d.pop("JobID", UNSET)

        def _parse_nonce(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        nonce = _parse_nonce(d.pop("Nonce", UNSET))

        def _parse_since_ms(data: object) -> Union[None, Unset, int]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, int], data)

        since_ms = _parse_since_ms(d.pop("SinceMs", UNSET))

        def _parse_stream(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        stream = _parse_stream(d.pop("Stream", UNSET))

        def _parse_tail(data: object) -> Union[None, Unset, int]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, int], data)

        tail = _parse_tail(d.pop("Tail", UNSET))

        def _parse_timestamp(data: object) -> Union[None, Unset, int]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, int], data)

        timestamp = _parse_timestamp(d.pop("Timestamp", UNSET))

        def _parse_with_history(data: object) -> Union[None, Unset, bool]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, bool], data)

        with_history = _parse_with_history(d.pop("WithHistory", UNSET))

        logs_payload = cls(
            after_seq=after_seq,
            client_id=client_id,
            execution_id=execution_id,
            follow=follow,
            job_id=job_id,
            nonce=nonce,
            since_ms=since_ms,
            stream=stream,
            tail=tail,
            timestamp=timestamp,
            with_history=with_history,
        )

        logs_payload.additional_properties = d
        return logs_payload

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
