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

from ..models.storage_source import StorageSource
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.s3_storage_spec import S3StorageSpec
    from ..models.storage_spec_metadata import StorageSpecMetadata


T = TypeVar("T", bound="StorageSpec")


@_attrs_define
class StorageSpec:
    """Where data lives, and where it is mounted.

    Attributes:
        cid (Union[Unset, str]): IPFS CID.
        metadata (Union[Unset, StorageSpecMetadata]): Free-form metadata.
        name (Union[Unset, str]): A name (outputs: the output's name).
        read_write (Union[Unset, bool]): Mount read-write.
        repo (Union[Unset, str]): Repository URL.
        s3 (Union['S3StorageSpec', None, Unset]):
        source_path (Union[Unset, str]): Host path (LocalDirectory).
        storage_source (Union[None, StorageSource, Unset]):
        url (Union[Unset, str]): URL (URLDownload; Inline takes a data URL).
        path (Union[Unset, str]): Mount path inside the job.
    """

    cid: Union[Unset, str] = UNSET
    metadata: Union[Unset, "StorageSpecMetadata"] = UNSET
    name: Union[Unset, str] = UNSET
    read_write: Union[Unset, bool] = UNSET
    repo: Union[Unset, str] = UNSET
    s3: Union["S3StorageSpec", None, Unset] = UNSET
    source_path: Union[Unset, str] = UNSET
    storage_source: Union[None, StorageSource, Unset] = UNSET
    url: Union[Unset, str] = UNSET
    path: Union[Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.s3_storage_spec import S3StorageSpec

        cid = self.cid

        metadata: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        name = self.name

        read_write = self.read_write

        repo = self.repo

        s3: Union[None, Unset, dict[str, Any]]
        if isinstance(self.s3, Unset):
            s3 = UNSET
        elif isinstance(self.s3, S3StorageSpec):
            s3 = self.s3.to_dict()
        else:
            s3 = self.s3

        source_path = self.source_path

        storage_source: Union[None, Unset, str]
        if isinstance(self.storage_source, Unset):
            storage_source = UNSET
        elif isinstance(self.storage_source, StorageSource):
            storage_source = self.storage_source.value
        else:
            storage_source = self.storage_source

        url = self.url

        path = self.path

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if cid is not UNSET:
            field_dict["CID"] = cid
        if metadata is not UNSET:
            field_dict["Metadata"] = metadata
        if name is not UNSET:
            field_dict["Name"] = name
        if read_write is not UNSET:
            field_dict["ReadWrite"] = read_write
        if repo is not UNSET:
            field_dict["Repo"] = repo
        if s3 is not UNSET:
            field_dict["S3"] = s3
        if source_path is not UNSET:
            field_dict["SourcePath"] = source_path
        if storage_source is not UNSET:
            field_dict["StorageSource"] = storage_source
        if url is not UNSET:
            field_dict["URL"] = url
        if path is not UNSET:
            field_dict["path"] = path

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.s3_storage_spec import S3StorageSpec
        from ..models.storage_spec_metadata import StorageSpecMetadata

        d = dict(src_dict)
        cid = d.pop("CID", UNSET)

        _metadata = d.pop("Metadata", UNSET)
        metadata: Union[Unset, StorageSpecMetadata]
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = StorageSpecMetadata.from_dict(_metadata)

        name = d.pop("Name", UNSET)

        read_write = d.pop("ReadWrite", UNSET)

        repo = d.pop("Repo", UNSET)

        def _parse_s3(data: object) -> Union["S3StorageSpec", None, Unset]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                s3_type_1 = S3StorageSpec.from_dict(data)

                return s3_type_1
            except:  # noqa: E722
                pass
            return cast(Union["S3StorageSpec", None, Unset], data)

        s3 = _parse_s3(d.pop("S3", UNSET))

        source_path = d.pop("SourcePath", UNSET)

        def _parse_storage_source(data: object) -> Union[None, StorageSource, Unset]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                storage_source_type_1 = StorageSource(data)

                return storage_source_type_1
            except:  # noqa: E722
                pass
            return cast(Union[None, StorageSource, Unset], data)

        storage_source = _parse_storage_source(d.pop("StorageSource", UNSET))

        url = d.pop("URL", UNSET)

        path = d.pop("path", UNSET)

        storage_spec = cls(
            cid=cid,
            metadata=metadata,
            name=name,
            read_write=read_write,
            repo=repo,
            s3=s3,
            source_path=source_path,
            storage_source=storage_source,
            url=url,
            path=path,
        )

        storage_spec.additional_properties = d
        return storage_spec

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
