"""Contains all the data models used in inputs/outputs"""

from .build_version_info import BuildVersionInfo
from .cancel_payload import CancelPayload
from .cancel_request import CancelRequest
from .capacity import Capacity
from .cluster_node import ClusterNode
from .cluster_node_labels import ClusterNodeLabels
from .compute_node_info import ComputeNodeInfo
from .deal import Deal
from .docker_spec import DockerSpec
from .engine import Engine
from .error_body import ErrorBody
from .error_body_details import ErrorBodyDetails
from .event_filter_options import EventFilterOptions
from .events_request import EventsRequest
from .events_response import EventsResponse
from .exec_spec import ExecSpec
from .exec_spec_environment_variables import ExecSpecEnvironmentVariables
from .execution_state import ExecutionState
from .execution_state_type import ExecutionStateType
from .healthz_response_200 import HealthzResponse200
from .history_type import HistoryType
from .job import Job
from .job_history import JobHistory
from .job_state import JobState
from .job_state_type import JobStateType
from .job_with_info import JobWithInfo
from .label_selector import LabelSelector
from .language_spec import LanguageSpec
from .list_request import ListRequest
from .list_response import ListResponse
from .log_end import LogEnd
from .log_frame import LogFrame
from .log_gap import LogGap
from .logs_payload import LogsPayload
from .logs_request import LogsRequest
from .metadata import Metadata
from .network import Network
from .network_config import NetworkConfig
from .node_info import NodeInfo
from .node_info_labels import NodeInfoLabels
from .peer_info import PeerInfo
from .published_result import PublishedResult
from .publisher import Publisher
from .publisher_spec import PublisherSpec
from .publisher_spec_params import PublisherSpecParams
from .requester_info import RequesterInfo
from .resources import Resources
from .results_response import ResultsResponse
from .run_command_result import RunCommandResult
from .s3_storage_spec import S3StorageSpec
from .sandbox_status import SandboxStatus
from .spec import Spec
from .state_change_execution_state_type import StateChangeExecutionStateType
from .state_change_execution_state_type_new import StateChangeExecutionStateTypeNew
from .state_change_execution_state_type_previous import (
    StateChangeExecutionStateTypePrevious,
)
from .state_change_job_state_type import StateChangeJobStateType
from .state_change_job_state_type_new import StateChangeJobStateTypeNew
from .state_change_job_state_type_previous import StateChangeJobStateTypePrevious
from .state_request import StateRequest
from .state_response import StateResponse
from .storage_source import StorageSource
from .storage_spec import StorageSpec
from .storage_spec_metadata import StorageSpecMetadata
from .submit_payload import SubmitPayload
from .submit_request import SubmitRequest
from .submit_response import SubmitResponse
from .verification_result import VerificationResult
from .verifier import Verifier
from .version_request import VersionRequest
from .version_response import VersionResponse
from .wasm_spec import WasmSpec
from .wasm_spec_environment_variables import WasmSpecEnvironmentVariables

__all__ = (
    "BuildVersionInfo",
    "CancelPayload",
    "CancelRequest",
    "Capacity",
    "ClusterNode",
    "ClusterNodeLabels",
    "ComputeNodeInfo",
    "Deal",
    "DockerSpec",
    "Engine",
    "ErrorBody",
    "ErrorBodyDetails",
    "EventFilterOptions",
    "EventsRequest",
    "EventsResponse",
    "ExecSpec",
    "ExecSpecEnvironmentVariables",
    "ExecutionState",
    "ExecutionStateType",
    "HealthzResponse200",
    "HistoryType",
    "Job",
    "JobHistory",
    "JobState",
    "JobStateType",
    "JobWithInfo",
    "LabelSelector",
    "LanguageSpec",
    "ListRequest",
    "ListResponse",
    "LogEnd",
    "LogFrame",
    "LogGap",
    "LogsPayload",
    "LogsRequest",
    "Metadata",
    "Network",
    "NetworkConfig",
    "NodeInfo",
    "NodeInfoLabels",
    "PeerInfo",
    "PublishedResult",
    "Publisher",
    "PublisherSpec",
    "PublisherSpecParams",
    "RequesterInfo",
    "Resources",
    "ResultsResponse",
    "RunCommandResult",
    "S3StorageSpec",
    "SandboxStatus",
    "Spec",
    "StateChangeExecutionStateType",
    "StateChangeExecutionStateTypeNew",
    "StateChangeExecutionStateTypePrevious",
    "StateChangeJobStateType",
    "StateChangeJobStateTypeNew",
    "StateChangeJobStateTypePrevious",
    "StateRequest",
    "StateResponse",
    "StorageSource",
    "StorageSpec",
    "StorageSpecMetadata",
    "SubmitPayload",
    "SubmitRequest",
    "SubmitResponse",
    "VerificationResult",
    "Verifier",
    "VersionRequest",
    "VersionResponse",
    "WasmSpec",
    "WasmSpecEnvironmentVariables",
)
