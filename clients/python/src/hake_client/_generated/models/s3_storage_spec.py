from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="S3StorageSpec")


@_attrs_define
class S3StorageSpec:
    """An object (or, with a Key ending in `/` or `*`, every object under a prefix) in an S3
    bucket, named as Bacalhau names it.

        Attributes:
            bucket (Union[Unset, str]): The bucket.
            checksum_sha256 (Union[Unset, str]): Base64 (or hex) SHA-256 the object must have (single keys only).
            endpoint (Union[Unset, str]): An S3-compatible endpoint URL (path-style addressing); AWS when empty.
            key (Union[Unset, str]): The object key, or a prefix when it ends in `/` or `*`.
            region (Union[Unset, str]): The region; the node's AWS configuration (else `us-east-1`) when empty.
            version_id (Union[Unset, str]): The object version to read (single keys only).
    """

    bucket: Union[Unset, str] = UNSET
    checksum_sha256: Union[Unset, str] = UNSET
    endpoint: Union[Unset, str] = UNSET
    key: Union[Unset, str] = UNSET
    region: Union[Unset, str] = UNSET
    version_id: Union[Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bucket = self.bucket

        checksum_sha256 = self.checksum_sha256

        endpoint = self.endpoint

        key = self.key

        region = self.region

        version_id = self.version_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if bucket is not UNSET:
            field_dict["Bucket"] = bucket
        if checksum_sha256 is not UNSET:
            field_dict["ChecksumSHA256"] = checksum_sha256
        if endpoint is not UNSET:
            field_dict["Endpoint"] = endpoint
        if key is not UNSET:
            field_dict["Key"] = key
        if region is not UNSET:
            field_dict["Region"] = region
        if version_id is not UNSET:
            field_dict["VersionID"] = version_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        bucket = d.pop("Bucket", UNSET)

        checksum_sha256 = d.pop("ChecksumSHA256", UNSET)

        endpoint = d.pop("Endpoint", UNSET)

        key = d.pop("Key", UNSET)

        region = d.pop("Region", UNSET)

        version_id = d.pop("VersionID", UNSET)

        s3_storage_spec = cls(
            bucket=bucket,
            checksum_sha256=checksum_sha256,
            endpoint=endpoint,
            key=key,
            region=region,
            version_id=version_id,
        )

        s3_storage_spec.additional_properties = d
        return s3_storage_spec

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
