from http import HTTPStatus
from io import BytesIO
from typing import Any, Optional, Union

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...types import File, Response


def _get_kwargs(
    job: str,
    file: str,
) -> dict[str, Any]:
    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/results/{job}/{file}".format(
            job=job,
            file=file,
        ),
    }

    return _kwargs


def _parse_response(
    *, client: Union[AuthenticatedClient, Client], response: httpx.Response
) -> Optional[Union[ErrorBody, File]]:
    if response.status_code == 200:
        response_200 = File(payload=BytesIO(response.content))

        return response_200

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())

        return response_404

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: Union[AuthenticatedClient, Client], response: httpx.Response
) -> Response[Union[ErrorBody, File]]:
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
) -> Response[Union[ErrorBody, File]]:
    """Downloads a published result tarball.

    Args:
        job (str):
        file (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[ErrorBody, File]]
    """

    kwargs = _get_kwargs(
        job=job,
        file=file,
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
) -> Optional[Union[ErrorBody, File]]:
    """Downloads a published result tarball.

    Args:
        job (str):
        file (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[ErrorBody, File]
    """

    return sync_detailed(
        job=job,
        file=file,
        client=client,
    ).parsed


async def asyncio_detailed(
    job: str,
    file: str,
    *,
    client: Union[AuthenticatedClient, Client],
) -> Response[Union[ErrorBody, File]]:
    """Downloads a published result tarball.

    Args:
        job (str):
        file (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[ErrorBody, File]]
    """

    kwargs = _get_kwargs(
        job=job,
        file=file,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    job: str,
    file: str,
    *,
    client: Union[AuthenticatedClient, Client],
) -> Optional[Union[ErrorBody, File]]:
    """Downloads a published result tarball.

    Args:
        job (str):
        file (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[ErrorBody, File]
    """

    return (
        await asyncio_detailed(
            job=job,
            file=file,
            client=client,
        )
    ).parsed
