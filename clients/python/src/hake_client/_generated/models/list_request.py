from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_state_type import JobStateType
from ..types import UNSET, Unset

T = TypeVar("T", bound="ListRequest")


@_attrs_define
class ListRequest:
    """`list` request. Every field is optional.

    Attributes:
        client_id (Union[Unset, str]): Scopes the list to this client unless `return_all`. Default: ''.
        exclude_tags (Union[Unset, list[str]]): Drop jobs whose first matching annotation is here.
        id (Union[Unset, str]): A single job by full id or 8-character prefix (other fields are then ignored). Default:
            ''.
        include_tags (Union[Unset, list[str]]): Keep jobs whose first matching annotation is here.
        max_jobs (Union[Unset, int]): Page size; 0 means the server's page cap. Default: 0.
        next_token (Union[Unset, str]): Extension: the `next_token` of the previous page. Default: ''.
        return_all (Union[Unset, bool]): Every client's jobs. Default: False.
        sort_by (Union[Unset, str]): `created_at` (default) or `id`. Default: ''.
        sort_reverse (Union[Unset, bool]): Descending. Default: False.
        states (Union[Unset, list[JobStateType]]): Extension: only jobs in these states (names are case-insensitive).
    """

    client_id: Union[Unset, str] = ""
    exclude_tags: Union[Unset, list[str]] = UNSET
    id: Union[Unset, str] = ""
    include_tags: Union[Unset, list[str]] = UNSET
    max_jobs: Union[Unset, int] = 0
    next_token: Union[Unset, str] = ""
    return_all: Union[Unset, bool] = False
    sort_by: Union[Unset, str] = ""
    sort_reverse: Union[Unset, bool] = False
    states: Union[Unset, list[JobStateType]] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        client_id = self.client_id

        exclude_tags: Union[Unset, list[str]] = UNSET
        if not isinstance(self.exclude_tags, Unset):
            exclude_tags = self.exclude_tags

        id = self.id

        include_tags: Union[Unset, list[str]] = UNSET
        if not isinstance(self.include_tags, Unset):
            include_tags = self.include_tags

        max_jobs = self.max_jobs

        next_token = self.next_token

        return_all = self.return_all

        sort_by = self.sort_by

        sort_reverse = self.sort_reverse

        states: Union[Unset, list[str]] = UNSET
        if not isinstance(self.states, Unset):
            states = []
            for states_item_data in self.states:
                states_item = states_item_data.value
                states.append(states_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if client_id is not UNSET:
            field_dict["client_id"] = client_id
        if exclude_tags is not UNSET:
            field_dict["exclude_tags"] = exclude_tags
        if id is not UNSET:
            field_dict["id"] = id
        if include_tags is not UNSET:
            field_dict["include_tags"] = include_tags
        if max_jobs is not UNSET:
            field_dict["max_jobs"] = max_jobs
        if next_token is not UNSET:
            field_dict["next_token"] = next_token
        if return_all is not UNSET:
            field_dict["return_all"] = return_all
        if sort_by is not UNSET:
            field_dict["sort_by"] = sort_by
        if sort_reverse is not UNSET:
            field_dict["sort_reverse"] = sort_reverse
        if states is not UNSET:
            field_dict["states"] = states

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        client_id = d.pop("client_id", UNSET)

        exclude_tags = cast(list[str], d.pop("exclude_tags", UNSET))

        id = d.pop("id", UNSET)

        include_tags = cast(list[str], d.pop("include_tags", UNSET))

        max_jobs = d.pop("max_jobs", UNSET)

        next_token = d.pop("next_token", UNSET)

        return_all = d.pop("return_all", UNSET)

        sort_by = d.pop("sort_by", UNSET)

        sort_reverse = d.pop("sort_reverse", UNSET)

        states = []
        _states = d.pop("states", UNSET)
        for states_item_data in _states or []:
            states_item = JobStateType(states_item_data)

            states.append(states_item)

        list_request = cls(
            client_id=client_id,
            exclude_tags=exclude_tags,
            id=id,
            include_tags=include_tags,
            max_jobs=max_jobs,
            next_token=next_token,
            return_all=return_all,
            sort_by=sort_by,
            sort_reverse=sort_reverse,
            states=states,
        )

        list_request.additional_properties = d
        return list_request

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
