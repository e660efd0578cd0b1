from http import HTTPStatus
from typing import Any, Optional, Union

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.logs_request import LogsRequest
from ...types import Response


def _get_kwargs(
    *,
    body: LogsRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/requester/logs",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: Union[AuthenticatedClient, Client], response: httpx.Response
) -> Optional[Union[ErrorBody, str]]:
    if response.status_code == 200:
        response_200 = response.text
        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorBody.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())

        return response_404

    if response.status_code == 429:
        response_429 = ErrorBody.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: Union[AuthenticatedClient, Client], response: httpx.Response
) -> Response[Union[ErrorBody, str]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: Union[AuthenticatedClient, Client],
    body: LogsRequest,
) -> Response[Union[ErrorBody, str]]:
    """Streams an execution's logs (owner only).

     The body is chunked: by `Accept`, NDJSON of `LogFrame` (default), `text/plain` raw
    output, or `text/event-stream` (SSE, `id` = seq, resumes from `Last-Event-ID`). Every
    stream ends with an `End` record. Errors found before streaming are JSON.

    Args:
        body (LogsRequest): A signed `logs` request.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[ErrorBody, str]]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: Union[AuthenticatedClient, Client],
    body: LogsRequest,
) -> Optional[Union[ErrorBody, str]]:
    """Streams an execution's logs (owner only).

     The body is chunked: by `Accept`, NDJSON of `LogFrame` (default), `text/plain` raw
    output, or `text/event-stream` (SSE, `id` = seq, resumes from `Last-Event-ID`). Every
    stream ends with an `End` record. Errors found before streaming are JSON.

    Args:
        body (LogsRequest): A signed `logs` request.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[ErrorBody, str]
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: Union[AuthenticatedClient, Client],
    body: LogsRequest,
) -> Response[Union[ErrorBody, str]]:
    """Streams an execution's logs (owner only).

     The body is chunked: by `Accept`, NDJSON of `LogFrame` (default), `text/plain` raw
    output, or `text/event-stream` (SSE, `id` = seq, resumes from `Last-Event-ID`). Every
    stream ends with an `End` record. Errors found before streaming are JSON.

    Args:
        body (LogsRequest): A signed `logs` request.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Union[ErrorBody, str]]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: Union[AuthenticatedClient, Client],
    body: LogsRequest,
) -> Optional[Union[ErrorBody, str]]:
    """Streams an execution's logs (owner only).

     The body is chunked: by `Accept`, NDJSON of `LogFrame` (default), `text/plain` raw
    output, or `text/event-stream` (SSE, `id` = seq, resumes from `Last-Event-ID`). Every
    stream ends with an `End` record. Errors found before streaming are JSON.

    Args:
        body (LogsRequest): A signed `logs` request.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Union[ErrorBody, str]
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
