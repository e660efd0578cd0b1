"""hake-client: a Python client for hake, the job server with a Bacalhau-compatible API.

    from hake_client import Client
    hake = Client()                        # HAKE_SERVER, HAKE_KEY, or the key `hake id` made
    job = hake.submit({"Engine": "Exec", "Exec": {"Command": ["echo", "hi"]}})
    print(hake.job_wait_for_job(job))      # Completed
    hake.job_print_logs(job)               # hi

The helpers also exist as module-level functions on a client built from the environment
(``hake_client.job_wait_for_job(job)``). Server refusals raise :class:`HakeError`.
"""

from . import models
from ._default import (
    default_client,
    job_cancel,
    job_get_exec_time,
    job_get_logs,
    job_get_status,
    job_print_logs,
    job_tail_logs,
    job_wait_for_job,
    set_default_client,
)
from .client import DEFAULT_SERVER, Client
from .errors import HakeError
from .keys import Key, default_key_path
from .logs import LogRecord
from .models import JobState, JobStateType, Node

__version__ = "0.1.0"

__all__ = [
    "Client",
    "DEFAULT_SERVER",
    "HakeError",
    "JobState",
    "JobStateType",
    "Key",
    "LogRecord",
    "Node",
    "default_client",
    "default_key_path",
    "job_cancel",
    "job_get_exec_time",
    "job_get_logs",
    "job_get_status",
    "job_print_logs",
    "job_tail_logs",
    "job_wait_for_job",
    "models",
    "set_default_client",
]
