"""The seed helpers as module-level functions, on a default :class:`Client` built from
the environment (``HAKE_SERVER``, ``HAKE_KEY``) on first use."""

import datetime
import threading
from typing import IO, List, Optional

from ._coerce import JobRef
from .client import Client
from .logs import LogRecord
from .models import JobState

__all__ = [
    "default_client",
    "set_default_client",
    "job_get_logs",
    "job_print_logs",
    "job_tail_logs",
    "job_get_status",
    "job_cancel",
    "job_get_exec_time",
    "job_wait_for_job",
]

_lock = threading.Lock()
_client: Optional[Client] = None


def default_client() -> Client:
    """The client the module-level helpers use (made from the environment on first use)."""
    global _client
    with _lock:
        if _client is None:
            _client = Client()
        return _client


def set_default_client(client: Optional[Client]) -> None:
    """Replaces the default client (None: make a new one from the environment next time)."""
    global _client
    with _lock:
        _client = client


def job_get_logs(job: JobRef, since_ms: Optional[int] = None) -> List[LogRecord]:
    """:meth:`Client.job_get_logs` on the default client."""
    return default_client().job_get_logs(job, since_ms)


def job_print_logs(job: JobRef, since_ms: Optional[int] = None, file: Optional[IO[str]] = None) -> None:
    """:meth:`Client.job_print_logs` on the default client."""
    default_client().job_print_logs(job, since_ms, file)


def job_tail_logs(
    job: JobRef,
    refresh_seconds: float = 1,
    sample_logs: bool = True,
    timeout: Optional[float] = None,
    get_logs_retries: int = 1,
) -> Optional[str]:
    """:meth:`Client.job_tail_logs` on the default client."""
    return default_client().job_tail_logs(job, refresh_seconds, sample_logs, timeout, get_logs_retries)


def job_get_status(job: JobRef) -> JobState:
    """:meth:`Client.job_get_status` on the default client."""
    return default_client().job_get_status(job)


def job_cancel(job: JobRef) -> JobState:
    """:meth:`Client.job_cancel` on the default client."""
    return default_client().job_cancel(job)


def job_get_exec_time(job: JobRef) -> datetime.timedelta:
    """:meth:`Client.job_get_exec_time` on the default client."""
    return default_client().job_get_exec_time(job)


def job_wait_for_job(
    job: JobRef, poll_interval_seconds: float = 5, timeout: Optional[float] = None
) -> JobState:
    """:meth:`Client.job_wait_for_job` on the default client."""
    return default_client().job_wait_for_job(job, poll_interval_seconds, timeout)
