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
    from ..models.build_version_info import BuildVersionInfo
    from ..models.cluster_node_labels import ClusterNodeLabels
    from ..models.compute_node_info import ComputeNodeInfo
    from ..models.peer_info import PeerInfo


T = TypeVar("T", bound="ClusterNode")


@_attrs_define
class ClusterNode:
    """One node of the cluster: Bacalhau's `NodeInfo`, with whether it is connected and
    when it was last heard from.

        Attributes:
            bacalhau_version (BuildVersionInfo): Build facts in Bacalhau's shape.
            connection (str): `CONNECTED` or `DISCONNECTED` (silent longer than the node timeout).
            labels (ClusterNodeLabels): Its labels (`--label`).
            last_seen (str): Its last heartbeat (RFC 3339).
            node_type (str): `Compute` (runs executions) or `Requester` (API only).
            peer_info (PeerInfo): A node's identity.
            compute_node_info (Union['ComputeNodeInfo', None, Unset]):
    """

    bacalhau_version: "BuildVersionInfo"
    connection: str
    labels: "ClusterNodeLabels"
    last_seen: str
    node_type: str
    peer_info: "PeerInfo"
    compute_node_info: Union["ComputeNodeInfo", None, Unset] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.compute_node_info import ComputeNodeInfo

        bacalhau_version = self.bacalhau_version.to_dict()

        connection = self.connection

        labels = self.labels.to_dict()

        last_seen = self.last_seen

        node_type = self.node_type

        peer_info = self.peer_info.to_dict()

        compute_node_info: Union[None, Unset, dict[str, Any]]
        if isinstance(self.compute_node_info, Unset):
            compute_node_info = UNSET
        elif isinstance(self.compute_node_info, ComputeNodeInfo):
            compute_node_info = self.compute_node_info.to_dict()
        else:
            compute_node_info = self.compute_node_info

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "BacalhauVersion": bacalhau_version,
                "Connection": connection,
                "Labels": labels,
                "LastSeen": last_seen,
                "NodeType": node_type,
                "PeerInfo": peer_info,
            }
        )
        if compute_node_info is not UNSET:
            field_dict["ComputeNodeInfo"] = compute_node_info

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.build_version_info import BuildVersionInfo
        from ..models.cluster_node_labels import ClusterNodeLabels
        from ..models.compute_node_info import ComputeNodeInfo
        from ..models.peer_info import PeerInfo

        d = dict(src_dict)
        bacalhau_version = BuildVersionInfo.from_dict(d.pop("BacalhauVersion"))

        connection = d.pop("Connection")

        labels = ClusterNodeLabels.from_dict(d.pop("Labels"))

        last_seen = d.pop("LastSeen")

        node_type = d.pop("NodeType")

        peer_info = PeerInfo.from_dict(d.pop("PeerInfo"))

        def _parse_compute_node_info(
            data: object,
        ) -> Union["ComputeNodeInfo", None, Unset]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                compute_node_info_type_1 = ComputeNodeInfo.from_dict(data)

                return compute_node_info_type_1
            except:  # noqa: E722
                pass
            return cast(Union["ComputeNodeInfo", None, Unset], data)

        compute_node_info = _parse_compute_node_info(d.pop("ComputeNodeInfo", UNSET))

        cluster_node = cls(
            bacalhau_version=bacalhau_version,
            connection=connection,
            labels=labels,
            last_seen=last_seen,
            node_type=node_type,
            peer_info=peer_info,
            compute_node_info=compute_node_info,
        )

        cluster_node.additional_properties = d
        return cluster_node

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
