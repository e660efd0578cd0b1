import datetime
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
from dateutil.parser import isoparse

from ..models.execution_state_type import ExecutionStateType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.run_command_result import RunCommandResult
    from ..models.storage_spec import StorageSpec
    from ..models.verification_result import VerificationResult


T = TypeVar("T", bound="ExecutionState")


@_attrs_define
class ExecutionState:
    """One execution of a job.

    Attributes:
        compute_reference (str): The execution id (`e-<uuid>`).
        create_time (datetime.datetime): When the execution was created.
        job_id (str): The job id.
        node_id (str): The node that ran it (note the lower-case `d`, as Bacalhau).
        state (ExecutionStateType): The state of one execution of a job.
        update_time (datetime.datetime): When the execution last changed.
        version (int): Starts at 1, grows by one per change.
        accepted_ask_for_bid (Union[Unset, bool]): Always true on hake (the node accepts what it was asked).
        duration_ms (Union[None, Unset, int]): Extension: `EndTime - StartTime` in milliseconds.
        end_time (Union[None, Unset, datetime.datetime]): Extension: when it reached a terminal state.
        published_results (Union[Unset, StorageSpec]): Where data lives, and where it is mounted.
        run_output (Union['RunCommandResult', None, Unset]):
        start_time (Union[None, Unset, datetime.datetime]): Extension: when the engine started it.
        status (Union[Unset, str]): Why the execution is in its state.
        verification_result (Union[Unset, VerificationResult]): Verification outcome (hake verifies nothing, so this is
            empty).
    """

    compute_reference: str
    create_time: datetime.datetime
    job_id: str
    node_id: str
    state: ExecutionStateType
    update_time: datetime.datetime
    version: int
    accepted_ask_for_bid: Union[Unset, bool] = UNSET
    duration_ms: Union[None, Unset, int] = UNSET
    end_time: Union[None, Unset, datetime.datetime] = UNSET
    published_results: Union[Unset, "StorageSpec"] = UNSET
    run_output: Union["RunCommandResult", None, Unset] = UNSET
    start_time: Union[None, Unset, datetime.datetime] = UNSET
    status: Union[Unset, str] = UNSET
    verification_result: Union[Unset, "VerificationResult"] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.run_command_result import RunCommandResult

        compute_reference = self.compute_reference

        create_time = self.create_time.isoformat()

        job_id = self.job_id

        node_id = self.node_id

        state = self.state.value

        update_time = self.update_time.isoformat()

        version = self.version

        accepted_ask_for_bid = self.accepted_ask_for_bid

        duration_ms: Union[None, Unset, int]
        if isinstance(self.duration_ms, Unset):
            duration_ms = UNSET
        else:
            duration_ms = self.duration_ms

        end_time: Union[None, Unset, str]
        if isinstance(self.end_time, Unset):
            end_time = UNSET
        elif isinstance(self.end_time, datetime.datetime):
            end_time = self.end_time.isoformat()
        else:
            end_time = self.end_time

        published_results: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.published_results, Unset):
            published_results = self.published_results.to_dict()

        run_output: Union[None, Unset, dict[str, Any]]
        if isinstance(self.run_output, Unset):
            run_output = UNSET
        elif isinstance(self.run_output, RunCommandResult):
            run_output = self.run_output.to_dict()
        else:
            run_output = self.run_output

        start_time: Union[None, Unset, str]
        if isinstance(self.start_time, Unset):
            start_time = UNSET
        elif isinstance(self.start_time, datetime.datetime):
            start_time = self.start_time.isoformat()
        else:
            start_time = self.start_time

        status = self.status

        verification_result: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.verification_result, Unset):
            verification_result = self.verification_result.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "ComputeReference": compute_reference,
                "CreateTime": create_time,
                "JobID": job_id,
                "NodeId": node_id,
                "State": state,
                "UpdateTime": update_time,
                "Version": version,
            }
        )
        if accepted_ask_for_bid is not UNSET:
            field_dict["AcceptedAskForBid"] = accepted_ask_for_bid
        if duration_ms is not UNSET:
            field_dict["DurationMs"] = duration_ms
        if end_time is not UNSET:
            field_dict["EndTime"] = end_time
        if published_results is not UNSET:
            field_dict["PublishedResults"] = published_results
        if run_output is not UNSET:
            field_dict["RunOutput"] = run_output
        if start_time is not UNSET:
            field_dict["StartTime"] = start_time
        if status is not UNSET:
            field_dict["Status"] = status
        if verification_result is not UNSET:
            field_dict["VerificationResult"] = verification_result

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.run_command_result import RunCommandResult
        from ..models.storage_spec import StorageSpec
        from ..models.verification_result import VerificationResult

        d = dict(src_dict)
        compute_reference = d.pop("ComputeReference")

        create_time = isoparse(d.pop("CreateTime"))

        job_id = d.pop("JobID")

        node_id = d.pop("NodeId")

        state = ExecutionStateType(d.pop("State"))

        update_time = isoparse(d.pop("UpdateTime"))

        version = d.pop("Version")

        accepted_ask_for_bid = d.pop("AcceptedAskForBid", UNSET)

        def _parse_duration_ms(data: object) -> Union[None, Unset, int]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, int], data)

        duration_ms = _parse_duration_ms(d.pop("DurationMs", UNSET))

        def _parse_end_time(data: object) -> Union[None, Unset, datetime.datetime]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                end_time_type_0 = isoparse(data)

                return end_time_type_0
            except:  # noqa: E722
                pass
            return cast(Union[None, Unset, datetime.datetime], data)

        end_time = _parse_end_time(d.pop("EndTime", UNSET))

        _published_results = d.pop("PublishedResults", UNSET)
        published_results: Union[Unset, StorageSpec]
        if isinstance(_published_results, Unset):
            published_results = UNSET
        else:
            published_results = StorageSpec.from_dict(_published_results)

        def _parse_run_output(data: object) -> Union["RunCommandResult", None, Unset]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                run_output_type_1 = RunCommandResult.from_dict(data)

                return run_output_type_1
            except:  # noqa: E722
                pass
            return cast(Union["RunCommandResult", None, Unset], data)

        run_output = _parse_run_output(d.pop("RunOutput", UNSET))

        def _parse_start_time(data: object) -> Union[None, Unset, datetime.datetime]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                start_time_type_0 = isoparse(data)

                return start_time_type_0
            except:  # noqa: E722
                pass
            return cast(Union[None, Unset, datetime.datetime], data)

        start_time = _parse_start_time(d.pop("StartTime", UNSET))

        status = d.pop("Status", UNSET)

        _verification_result = d.pop("VerificationResult", UNSET)
        verification_result: Union[Unset, VerificationResult]
        if isinstance(_verification_result, Unset):
            verification_result = UNSET
        else:
            verification_result = VerificationResult.from_dict(_verification_result)

        execution_state = cls(
            compute_reference=compute_reference,
            create_time=create_time,
            job_id=job_id,
            node_id=node_id,
            state=state,
            update_time=update_time,
            version=version,
            accepted_ask_for_bid=accepted_ask_for_bid,
            duration_ms=duration_ms,
            end_time=end_time,
            published_results=published_results,
            run_output=run_output,
            start_time=start_time,
            status=status,
            verification_result=verification_result,
        )

        execution_state.additional_properties = d
        return execution_state

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
