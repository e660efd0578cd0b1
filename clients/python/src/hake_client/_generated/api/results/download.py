from http import HTTPStatus
from io import BytesIO
from typing import Any, Optional, Union, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    job: str,
    file: str,
    *,
    range_: Union[Unset, str] = UNSET,
    if_range: Union[Unset, str] = UNSET,
    if_none_match: Union[Unset, str] = UNSET,
    if_modified_since: Union[Unset, str] = UNSET,
    if_match: Union[Unset, str] = UNSET,
    if_unmodified_since: Union[Unset, str] = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(range_, Unset):
        headers["Range"] = range_

    if not isinstance(if_range, Unset):
        headers["If-Range"] = if_range

    if not isinstance(if_none_match, Unset):
        headers["If-None-Match"] = if_none_match

    if not isinstance(if_modified_since, Unset):
        headers["If-Modified-Since"] = if_modified_since

    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    if not isinstance(if_unmodified_since, Unset):
        headers["If-Unmodified-Since"] = if_unmodified_since

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/results/{job}/{file}".format(
            job=job,
            file=file,
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: Union[AuthenticatedClient, Client], response: httpx.Response
) -> Optional[Union[Any, ErrorBody, File]]:
    if response.status_code == 200:
        response_200 = File(payload=BytesIO(response.content))

        return response_200

    if response.status_code == 206:
        response_206 = File(payload=BytesIO(response.content))

        return response_206

    if response.status_code == 304:
        response_304 = cast(Any, None)
        return response_304

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())

        return response_404

    if response.status_code == 412:
        response_412 = ErrorBody.from_dict(response.json())

        return response_412

    if response.status_code == 416:
        response_416 = ErrorBody.from_dict(response.json())

        return response_416

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: Union[AuthenticatedClient, Client], response: httpx.Response
) -> Response[Union[Any, ErrorBody, File]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    job: str,
    file: str,
    *,
    client: Union[AuthenticatedClient, Client],
    range_: Union[Unset, str] = UNSET,
    if_range: Union[Unset, str] = UNSET,
    if_none_match: Union[Unset, str] = UNSET,
    if_modified_since: Union[Unset, str] = UNSET,
    if_match: Union[Unset, str] = UNSET,
    if_unmodified_since: Union[Unset, str] = UNSET,
) -> Response[Union[Any, ErrorBody, File]]:
    """Downloads a published result tarball (HEAD gives its headers only).

     Supports single byte ranges (`Range: bytes=…`, with `If-Range`), answered with 206 and
    `Content-Range`; a request for several ranges gets the whole file. The strong `ETag`
    and `Last-Modified` make `If-None-Match`/`If-Modified-Since` (304) and
    `If-Match`/`If-Unmodified-Since` (412) work.

    Args:
        job (str):
        file (str):
        range_ (Union[Unset, str]):
        if_range (Union[Unset, str]):
        if_none_match (Union[Unset, str]):
        if_modified_since (Union[Unset, str]):
        if_match (Union[Unset, str]):
        if_unmodified_since (Union[Unset, str]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[Any, ErrorBody, File]]
    """

    kwargs = _get_kwargs(
        job=job,
        file=file,
        range_=range_,
        if_range=if_range,
        if_none_match=if_none_match,
        if_modified_since=if_modified_since,
        if_match=if_match,
        if_unmodified_since=if_unmodified_since,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    job: str,
    file: str,
    *,
    client: Union[AuthenticatedClient, Client],
    range_: Union[Unset, str] = UNSET,
    if_range: Union[Unset, str] = UNSET,
    if_none_match: Union[Unset, str] = UNSET,
    if_modified_since: Union[Unset, str] = UNSET,
    if_match: Union[Unset, str] = UNSET,
    if_unmodified_since: Union[Unset, str] = UNSET,
) -> Optional[Union[Any, ErrorBody, File]]:
    """Downloads a published result tarball (HEAD gives its headers only).

     Supports single byte ranges (`Range: bytes=…`, with `If-Range`), answered with 206 and
    `Content-Range`; a request for several ranges gets the whole file. The strong `ETag`
    and `Last-Modified` make `If-None-Match`/`If-Modified-Since` (304) and
    `If-Match`/`If-Unmodified-Since` (412) work.

    Args:
        job (str):
        file (str):
        range_ (Union[Unset, str]):
        if_range (Union[Unset, str]):
        if_none_match (Union[Unset, str]):
        if_modified_since (Union[Unset, str]):
        if_match (Union[Unset, str]):
        if_unmodified_since (Union[Unset, str]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[Any, ErrorBody, File]
    """

    return sync_detailed(
        job=job,
        file=file,
        client=client,
        range_=range_,
        if_range=if_range,
        if_none_match=if_none_match,
        if_modified_since=if_modified_since,
        if_match=if_match,
        if_unmodified_since=if_unmodified_since,
    ).parsed


async def asyncio_detailed(
    job: str,
    file: str,
    *,
    client: Union[AuthenticatedClient, Client],
    range_: Union[Unset, str] = UNSET,
    if_range: Union[Unset, str] = UNSET,
    if_none_match: Union[Unset, str] = UNSET,
    if_modified_since: Union[Unset, str] = UNSET,
    if_match: Union[Unset, str] = UNSET,
    if_unmodified_since: Union[Unset, str] = UNSET,
) -> Response[Union[Any, ErrorBody, File]]:
    """Downloads a published result tarball (HEAD gives its headers only).

     Supports single byte ranges (`Range: bytes=…`, with `If-Range`), answered with 206 and
    `Content-Range`; a request for several ranges gets the whole file. The strong `ETag`
    and `Last-Modified` make `If-None-Match`/`If-Modified-Since` (304) and
    `If-Match`/`If-Unmodified-Since` (412) work.

    Args:
        job (str):
        file (str):
        range_ (Union[Unset, str]):
        if_range (Union[Unset, str]):
        if_none_match (Union[Unset, str]):
        if_modified_since (Union[Unset, str]):
        if_match (Union[Unset, str]):
        if_unmodified_since (Union[Unset, str]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[Any, ErrorBody, File]]
    """

    kwargs = _get_kwargs(
        job=job,
        file=file,
        range_=range_,
        if_range=if_range,
        if_none_match=if_none_match,
        if_modified_since=if_modified_since,
        if_match=if_match,
        if_unmodified_since=if_unmodified_since,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    job: str,
    file: str,
    *,
    client: Union[AuthenticatedClient, Client],
    range_: Union[Unset, str] = UNSET,
    if_range: Union[Unset, str] = UNSET,
    if_none_match: Union[Unset, str] = UNSET,
    if_modified_since: Union[Unset, str] = UNSET,
    if_match: Union[Unset, str] = UNSET,
    if_unmodified_since: Union[Unset, str] = UNSET,
) -> Optional[Union[Any, ErrorBody, File]]:
    """Downloads a published result tarball (HEAD gives its headers only).

     Supports single byte ranges (`Range: bytes=…`, with `If-Range`), answered with 206 and
    `Content-Range`; a request for several ranges gets the whole file. The strong `ETag`
    and `Last-Modified` make `If-None-Match`/`If-Modified-Since` (304) and
    `If-Match`/`If-Unmodified-Since` (412) work.

    Args:
        job (str):
        file (str):
        range_ (Union[Unset, str]):
        if_range (Union[Unset, str]):
        if_none_match (Union[Unset, str]):
        if_modified_since (Union[Unset, str]):
        if_match (Union[Unset, str]):
        if_unmodified_since (Union[Unset, str]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[Any, ErrorBody, File]
    """

    return (
        await asyncio_detailed(
            job=job,
            file=file,
            client=client,
            range_=range_,
            if_range=if_range,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_match=if_match,
            if_unmodified_since=if_unmodified_since,
        )
    ).parsed
