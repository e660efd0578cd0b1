from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="BuildVersionInfo")


@_attrs_define
class BuildVersionInfo:
    """Build facts in Bacalhau's shape.

    Attributes:
        builddate (str): Build date.
        gitcommit (str): Commit.
        gitversion (str): `v0.0.0-xxxxxxx`, so every Bacalhau Go CLI skips its version check.
        goarch (str): Architecture.
        goos (str): OS.
        hake_version (str): Extension: hake's own version.
        major (str): Major version.
        minor (str): Minor version.
    """

    builddate: str
    gitcommit: str
    gitversion: str
    goarch: str
    goos: str
    hake_version: str
    major: str
    minor: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        builddate = self.builddate

        gitcommit = self.gitcommit

        gitversion = self.gitversion

        goarch = self.goarch

        goos = self.goos

        hake_version = self.hake_version

        major = self.major

        minor = self.minor

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "builddate": builddate,
                "gitcommit": gitcommit,
                "gitversion": gitversion,
                "goarch": goarch,
                "goos": goos,
                "hake_version": hake_version,
                "major": major,
                "minor": minor,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        builddate = d.pop("builddate")

        gitcommit = d.pop("gitcommit")

        gitversion = d.pop("gitversion")

        goarch = d.pop("goarch")

        goos = d.pop("goos")

        hake_version = d.pop("hake_version")

        major = d.pop("major")

        minor = d.pop("minor")

        build_version_info = cls(
            builddate=builddate,
            gitcommit=gitcommit,
            gitversion=gitversion,
            goarch=goarch,
            goos=goos,
            hake_version=hake_version,
            major=major,
            minor=minor,
        )

        build_version_info.additional_properties = d
        return build_version_info

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
