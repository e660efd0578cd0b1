"""The client: signed calls over the generated layer, and the job helpers people script
with (same names and arguments as the seed API: ``job_get_logs``, ``job_print_logs``,
``job_tail_logs``, ``job_get_status``, ``job_cancel``, ``job_get_exec_time``,
``job_wait_for_job``).

Unsigned routes go through the generated functions (``_generated.api``); signed ones
(submit, cancel, logs) send an envelope whose ``payload`` is the exact JSON text signed.
"""

import datetime
import os
import tempfile
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Dict, Iterable, Iterator, List, Mapping, Optional, Type, TypeVar, Union

import httpx

from . import logs as _logs
from ._coerce import JobRef, SpecSource, extract_tarball, job_id, spec_dict, state_type
from ._generated import Client as _GeneratedClient
from ._generated.api.node import node_info as _node_info
from ._generated.api.requester import events as _events
from ._generated.api.requester import list_ as _list
from ._generated.api.requester import results as _results
from ._generated.api.requester import states as _states
from ._generated.models import (
    EventFilterOptions,
    EventsRequest,
    EventsResponse,
    JobHistory,
    JobState,
    JobStateType,
    JobWithInfo,
    ListRequest,
    ListResponse,
    NodeInfo,
    PublishedResult,
    ResultsResponse,
    StateRequest,
    StateResponse,
    SubmitResponse,
)
from ._generated.types import Response as _Response
from .errors import HakeError
from .keys import Key, KeySource
from .logs import LogRecord
from .models import TERMINAL_STATES, Node

__all__ = ["Client", "DEFAULT_SERVER"]

T = TypeVar("T")

#: The server used when neither the argument nor ``HAKE_SERVER`` names one.
DEFAULT_SERVER = "http://127.0.0.1:1234"
#: The longest long-poll the server grants.
MAX_WAIT_SECONDS = 60.0


class Client:
    """A hake server and the key that signs for you.

    ``server`` defaults to ``$HAKE_SERVER``, else ``http://127.0.0.1:1234``. ``key`` is a
    PEM file path, PEM text, a :class:`~hake_client.keys.Key` or a cryptography private
    key; by default ``$HAKE_KEY``, else the file ``hake id`` makes (created on first use,
    as the CLI does). The key is read on the first signed call.
    """

    def __init__(
        self,
        server: Optional[str] = None,
        key: Optional[KeySource] = None,
        *,
        timeout: float = 90.0,
    ) -> None:
        self.server = (server or os.environ.get("HAKE_SERVER") or DEFAULT_SERVER).rstrip("/")
        self._key_source = key
        self._key: Optional[Key] = None
        self._timeout = timeout
        #: The generated low-level client (models and one function per route).
        self.api = _GeneratedClient(
            base_url=self.server,
            timeout=httpx.Timeout(timeout, connect=10.0),
        )

    def __repr__(self) -> str:
        return f"Client(server={self.server!r})"

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connection pool."""
        self.api.get_httpx_client().close()

    @property
    def key(self) -> Key:
        """The signing key (loaded, or created at the default path, on first use)."""
        if self._key is None:
            self._key = Key.coerce(self._key_source)
        return self._key

    @property
    def client_id(self) -> str:
        """This client's ClientID (hex SHA-256 of its public key)."""
        return self.key.client_id

    @property
    def _http(self) -> httpx.Client:
        return self.api.get_httpx_client()

    # ---- plumbing ---------------------------------------------------------------------

    @staticmethod
    def _ok(resp: "_Response[Any]", kind: Type[T]) -> T:
        """The parsed body of a generated call's answer, or the server's error raised."""
        if not 200 <= int(resp.status_code) < 300 or not isinstance(resp.parsed, kind):
            raise HakeError.from_response(int(resp.status_code), resp.content)
        return resp.parsed

    def _signed(self, path: str, fields: Mapping[str, Any]) -> Dict[str, Any]:
        """POSTs a signed envelope around a fresh payload; the JSON answer."""
        payload = self.key.payload(fields)
        resp = self._http.post(
            path,
            content=self.key.envelope(payload),
            headers={"Content-Type": "application/json"},
        )
        if not 200 <= resp.status_code < 300:
            raise HakeError.from_response(resp.status_code, resp.content)
        answer: Dict[str, Any] = resp.json()
        return answer

    def _state(
        self, job: JobRef, after_version: Optional[int] = None, wait_seconds: Optional[float] = None
    ) -> JobState:
        body = StateRequest(job_id=job_id(job))
        if after_version is not None:
            body.after_version = after_version
            body.wait_seconds = wait_seconds
        return self._ok(_states.sync_detailed(client=self.api, body=body), StateResponse).state

    # ---- jobs -------------------------------------------------------------------------

    def submit(self, spec: SpecSource) -> str:
        """Submits a job (a spec dict, JSON or YAML text, or a path to a spec file); the
        new job's id."""
        answer = self._signed("/requester/submit", {"APIVersion": "V1beta1", "Spec": spec_dict(spec)})
        return job_id(SubmitResponse.from_dict(answer))

    def get_status(self, job: JobRef) -> JobState:
        """The job's state with its executions; ``str()`` of it is the state's name."""
        return self._state(job)

    def list_jobs(
        self,
        *,
        states: Optional[Iterable[Union[str, JobStateType]]] = None,
        include_tags: Optional[Iterable[str]] = None,
        exclude_tags: Optional[Iterable[str]] = None,
        client_id: Optional[str] = None,
        return_all: bool = False,
        sort_by: str = "created_at",
        sort_reverse: bool = False,
        page_size: int = 0,
        limit: Optional[int] = None,
    ) -> Iterator[JobWithInfo]:
        """Jobs with their states, page after page (``page_size`` 0 is the server's page
        cap). Scoped to this client's jobs unless ``client_id`` names another client or
        ``return_all`` is true. ``states`` are names, case-insensitive; ``limit`` stops
        after that many jobs."""
        if not return_all and client_id is None:
            client_id = self.client_id
        wanted = [state_type(s) for s in states] if states is not None else None
        token = ""
        seen = 0
        while True:
            body = ListRequest(
                client_id=client_id or "",
                return_all=return_all,
                sort_by=sort_by,
                sort_reverse=sort_reverse,
                max_jobs=page_size,
                next_token=token,
            )
            if wanted is not None:
                body.states = wanted
            if include_tags is not None:
                body.include_tags = list(include_tags)
            if exclude_tags is not None:
                body.exclude_tags = list(exclude_tags)
            page = self._ok(_list.sync_detailed(client=self.api, body=body), ListResponse)
            for item in page.jobs:
                if limit is not None and seen >= limit:
                    return
                seen += 1
                yield item
            token = page.next_token if isinstance(page.next_token, str) else ""
            if not token or not page.jobs:
                return

    def events(
        self,
        job: JobRef,
        *,
        since: Union[None, int, datetime.datetime] = None,
        exclude_job_level: bool = False,
        exclude_execution_level: bool = False,
    ) -> List[JobHistory]:
        """The job's history, oldest first; ``since`` is a unix second or a datetime."""
        if isinstance(since, datetime.datetime):
            since = int(since.timestamp())
        filters = EventFilterOptions(
            since=since or 0,
            exclude_job_level=exclude_job_level,
            exclude_execution_level=exclude_execution_level,
        )
        body = EventsRequest(job_id=job_id(job), filters=filters)
        return self._ok(_events.sync_detailed(client=self.api, body=body), EventsResponse).events

    def results(self, job: JobRef) -> List[PublishedResult]:
        """Where the outputs of the job's completed executions were published."""
        body = StateRequest(job_id=job_id(job))
        return self._ok(_results.sync_detailed(client=self.api, body=body), ResultsResponse).results

    def download_results(self, job: JobRef, output_dir: Union[str, "os.PathLike[str]"] = ".") -> List[Path]:
        """Downloads and unpacks each published result with a URL (a tarball of the outputs with
        ``stdout``, ``stderr`` and ``exitCode``) into ``output_dir/<execution id>/``;
        those directories. Results on this server are fetched from it, whatever host
        their URL names."""
        out: List[Path] = []
        for result in self.results(job):
            url = result.data.url if isinstance(result.data.url, str) else ""
            name = result.data.name if isinstance(result.data.name, str) else ""
            if not url:
                continue  # published nowhere (the Noop publisher)
            parts = urllib.parse.urlsplit(url)
            own = parts.path.startswith(("/results/", "/api/v1/results/"))
            target = parts.path if own else url
            dest = Path(output_dir) / (name or Path(parts.path).name.split(".")[0])
            with tempfile.TemporaryDirectory() as tmp:
                archive = Path(tmp) / "result.tar.gz"
                http = self._http if own else httpx.Client(timeout=self._timeout)
                try:
                    with http.stream("GET", target) as resp:
                        if resp.status_code != 200:
                            resp.read()
                            raise HakeError.from_response(resp.status_code, resp.content)
                        with archive.open("wb") as f:
                            for chunk in resp.iter_bytes():
                                f.write(chunk)
                finally:
                    if not own:
                        http.close()
                extract_tarball(archive, dest)
            out.append(dest)
        return out

    def cancel(self, job: JobRef, reason: str = "") -> JobState:
        """Cancels the job (yours only: another client's job is a 403 ``not-job-owner``;
        a job that already ended is a 409 ``job-terminal``); its state after."""
        answer = self._signed("/requester/cancel", {"JobID": job_id(job), "Reason": reason})
        return StateResponse.from_dict(answer).state

    def node_info(self) -> NodeInfo:
        """Facts about the node answering (``GET /node_info``)."""
        return self._ok(_node_info.sync_detailed(client=self.api), NodeInfo)

    def nodes(self) -> List[Node]:
        """The cluster's nodes (``POST /api/v1/requester/nodes``); a server without that
        route (a lone node) answers as a one-node list from ``/node_info``."""
        # `Connection: close`: a server without the route answers 404 without reading the
        # body, then closes the connection, which must not go back to the pool.
        resp = self._http.post(
            "/api/v1/requester/nodes",
            content=b"{}",
            headers={"Content-Type": "application/json", "Connection": "close"},
        )
        if resp.status_code == 404:
            err = HakeError.from_response(404, resp.content)
            if err.code == "route-not-found":
                return [Node.from_dict(self.node_info().to_dict())]
            raise err
        if not 200 <= resp.status_code < 300:
            raise HakeError.from_response(resp.status_code, resp.content)
        body = resp.json()
        if isinstance(body, Mapping):
            for k, v in body.items():
                if k.lower() == "nodes":
                    body = v
                    break
        if not isinstance(body, list):
            raise HakeError(resp.status_code, "unreadable-answer", f"not a node list: {str(body)[:200]}")
        return [Node.from_dict(n) for n in body if isinstance(n, Mapping)]

    # ---- logs -------------------------------------------------------------------------

    @contextmanager
    def _logs_stream(self, fields: Mapping[str, Any], read_timeout: float) -> Iterator[httpx.Response]:
        payload = self.key.payload(dict(fields, WithHistory=True))
        timeout = httpx.Timeout(self._timeout, connect=10.0, read=read_timeout)
        with self._http.stream(
            "POST",
            "/requester/logs",
            content=self.key.envelope(payload),
            headers={"Content-Type": "application/json", "Accept": "application/x-ndjson"},
            timeout=timeout,
        ) as resp:
            if resp.status_code != 200:
                resp.read()
                raise HakeError.from_response(resp.status_code, resp.content)
            yield resp

    def job_get_logs(self, job: JobRef, since_ms: Optional[int] = None) -> List[LogRecord]:
        """The job's log so far (its latest execution), as records with ``time``,
        ``stream``, ``data`` and ``seq``; ``since_ms`` (unix ms) keeps only the lines
        that arrived at or after it."""
        fields: Dict[str, Any] = {"JobID": job_id(job), "Follow": False}
        if since_ms is not None:
            fields["SinceMs"] = int(since_ms)
        records: List[LogRecord] = []
        with self._logs_stream(fields, self._timeout) as resp:
            for frame in _logs.read_frames(resp):
                record = _logs.record_of(frame)
                end = _logs.end_of(frame)
                if record is not None:
                    records.append(record)
                elif end is not None:
                    if end.reason == "error":
                        raise HakeError(
                            0, "log-unreadable", f"the server could not read the log of job {job_id(job)}"
                        )
                    return records
        raise HakeError(0, "log-truncated", "the log stream ended without its End record")

    def job_print_logs(
        self, job: JobRef, since_ms: Optional[int] = None, file: Optional[IO[str]] = None
    ) -> None:
        """Prints the job's log so far to ``file`` (default ``sys.stdout``)."""
        printer = _logs.Sampler(file, sample=False, window_seconds=1.0)
        for record in self.job_get_logs(job, since_ms):
            printer.emit(record)

    def job_tail_logs(
        self,
        job: JobRef,
        refresh_seconds: float = 1,
        sample_logs: bool = True,
        timeout: Optional[float] = None,
        get_logs_retries: int = 1,
    ) -> Optional[str]:
        """Prints the job's log to stdout as it is written, until the execution ends
        (waiting for it to start). Follows the live stream (no polling); after a dropped
        connection it reconnects, resuming after the last line printed, so each line is
        printed once. ``refresh_seconds`` is the pause before reconnecting and the
        window of ``sample_logs`` (at most 100 lines per window, with a note of how many
        were left out). ``timeout`` (seconds) stops tailing early. ``get_logs_retries`` is
        how many reconnects in a row may fail before ``ConnectionError``. Returns the End
        reason (``completed``, ``failed``, ``cancelled``, ``timed_out``), or None when
        ``timeout`` came first."""
        ident = job_id(job)
        printer = _logs.Sampler(None, sample=sample_logs, window_seconds=refresh_seconds)

        def open_stream(after_seq: Optional[int], read_timeout: float) -> Any:
            fields: Dict[str, Any] = {"JobID": ident, "Follow": True}
            if after_seq is not None:
                fields["AfterSeq"] = after_seq
            return self._logs_stream(fields, read_timeout)

        try:
            return _logs.follow(
                open_stream,
                printer.emit,
                printer.note,
                refresh_seconds=refresh_seconds,
                timeout=timeout,
                retries=get_logs_retries,
            )
        finally:
            printer.flush()

    # ---- the seed helpers -------------------------------------------------------------

    def job_get_status(self, job: JobRef) -> JobState:
        """The job's state (as :meth:`get_status`)."""
        return self.get_status(job)

    def job_cancel(self, job: JobRef) -> JobState:
        """Cancels the job (as :meth:`cancel`); its state after."""
        return self.cancel(job)

    def job_get_exec_time(self, job: JobRef) -> datetime.timedelta:
        """How long the job ran: from its first execution's start to its last one's end
        once every started execution ended; while one runs, from the first to the last
        log line so far. Zero when nothing ran."""
        state = self.get_status(job)
        started = [e for e in state.executions or [] if isinstance(e.start_time, datetime.datetime)]
        if started and all(isinstance(e.end_time, datetime.datetime) for e in started):
            first = min(e.start_time for e in started)  # type: ignore[type-var]
            last = max(e.end_time for e in started)  # type: ignore[type-var]
            return max(last - first, datetime.timedelta(0))  # type: ignore[operator]
        if not started:
            return datetime.timedelta(0)
        records = self.job_get_logs(state.job_id)
        if len(records) < 2:
            return datetime.timedelta(0)
        return records[-1].time - records[0].time

    def job_wait_for_job(
        self, job: JobRef, poll_interval_seconds: float = 5, timeout: Optional[float] = None
    ) -> JobState:
        """Blocks until the job ends; its final state. Each wait is a long-poll that
        answers as soon as the job changes (``poll_interval_seconds`` bounds how long one
        request waits, at most 60). Raises ``TimeoutError`` after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        state = self.get_status(job)
        while state.state not in TERMINAL_STATES:
            wait = min(max(poll_interval_seconds, 0.1), MAX_WAIT_SECONDS)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"job {state.job_id} is still {state.state} after {timeout} s")
                wait = min(wait, left)
            state = self._state(state.job_id, after_version=state.version, wait_seconds=wait)
        return state
