"""The Python client generated from openapi.yaml (openapi-python-client, into
.generated/hake_client by scripts/setup-test-env.sh) against a live hake server.

It exercises list, states (with long-poll), events, results (and the tarball download),
and a submit and a cancel whose envelopes this script signs itself with an Ed25519 key
(the `cryptography` package). The last line printed is JSON facts for the Rust test.

Environment: HAKE_URL, the server's base URL.
"""

import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import time
import uuid

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hake_client import Client
from hake_client.api.requester import cancel, events, list_, results, states, submit
from hake_client.api.results import download
from hake_client.models import (
    CancelPayload,
    CancelRequest,
    ErrorBody,
    EventsRequest,
    ListRequest,
    Spec,
    StateRequest,
    SubmitPayload,
    SubmitRequest,
)

BASE = os.environ["HAKE_URL"]
client = Client(base_url=BASE, raise_on_unexpected_status=True, timeout=httpx.Timeout(90.0))

key = Ed25519PrivateKey.generate()
public = key.public_key().public_bytes(
    serialization.Encoding.Raw, serialization.PublicFormat.Raw
)
PUBLIC_B64 = base64.b64encode(public).decode()
CLIENT_ID = hashlib.sha256(public).hexdigest()


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def signature(payload) -> str:
    """Signs the payload's bytes exactly as the generated client will send them: httpx
    encodes the whole body with one JSON encoder, so the payload's text inside it is what
    the same encoder makes of the payload alone."""
    sent = httpx.Request("POST", BASE, json=payload.to_dict()).content
    return base64.b64encode(key.sign(sent)).decode()


def fresh():
    return {"timestamp": int(time.time() * 1000), "nonce": str(uuid.uuid4())}


def submit_spec(spec: dict) -> str:
    payload = SubmitPayload(
        client_id=CLIENT_ID, api_version="V1beta1", spec=Spec.from_dict(spec), **fresh()
    )
    body = SubmitRequest(client_public_key=PUBLIC_B64, signature=signature(payload), payload=payload)
    resp = submit.sync(client=client, body=body)
    check(not isinstance(resp, ErrorBody), f"submit refused: {resp}")
    return resp.job.metadata.id


# Submit a job that writes an output, signed here.
job_id = submit_spec(
    {
        "Engine": "Exec",
        "Exec": {"Command": ["sh", "-c", "sleep 0.5; echo hi; echo 42 > $HAKE_OUTPUTS/out/answer"]},
        "outputs": [{"Name": "out", "path": "/outputs"}],
        "PublisherSpec": {"Type": "Local"},
        "Deal": {"Concurrency": 1},
    }
)
check(len(job_id) == 36, f"a job id: {job_id}")

# states by 8-character prefix, then long-poll until the job is Completed.
state = states.sync(client=client, body=StateRequest(job_id=job_id[:8])).state
check(state.job_id == job_id, "states resolves the prefix")
long_polls = 0
while state.state.value not in ("Completed", "Error", "Cancelled", "CompletedPartially"):
    seen = state.version
    started = time.monotonic()
    state = states.sync(
        client=client, body=StateRequest(job_id=job_id, after_version=seen, wait_seconds=30)
    ).state
    long_polls += 1
    check(state.version > seen, "a long-poll answers with a newer version")
    check(time.monotonic() - started < 25, "a long-poll answers at the change, not the deadline")
check(state.state.value == "Completed", f"the job completed: {state.state}")
execution = state.executions[0]
check(execution.run_output.stdout == "hi\n", "RunOutput.stdout")
check(execution.duration_ms is not None and execution.duration_ms >= 400, "DurationMs")

# A long-poll on a finished job answers at once: no newer version can come.
started = time.monotonic()
same = states.sync(
    client=client, body=StateRequest(job_id=job_id, after_version=state.version, wait_seconds=30)
).state
check(same.version == state.version and time.monotonic() - started < 5, "terminal answer")

# list: this client's jobs, and the job by id.
page = list_.sync(client=client, body=ListRequest(client_id=CLIENT_ID, max_jobs=10))
check([j.job.metadata.id for j in page.jobs] == [job_id], "list scoped to this client")
one = list_.sync(client=client, body=ListRequest(id=job_id[:8]))
check(one.jobs[0].state.state.value == "Completed", "list by id")

# events: the history, oldest first.
history = events.sync(client=client, body=EventsRequest(job_id=job_id)).events
check(history[0].comment == "Job created", "the first event")
check(any(h.type_.value == "ExecutionLevel" for h in history), "execution-level events")

# results: one published tarball, downloaded through the generated client.
published = results.sync(client=client, body=StateRequest(job_id=job_id)).results
check(len(published) == 1 and published[0].data.url.endswith(".tar.gz"), "one result")
execution_id = published[0].data.name
tarball = download.sync(client=client, job=job_id, file=f"{execution_id}.tar.gz")
check(not isinstance(tarball, ErrorBody), f"download: {tarball}")
with tarfile.open(fileobj=io.BytesIO(tarball.payload.read()), mode="r:gz") as tar:
    answer = tar.extractfile("out/answer").read().decode()
check(answer == "42\n", f"the output in the tarball: {answer!r}")

# cancel: a long job, cancelled with an envelope signed here; a second cancel is a 409.
sleeper = submit_spec(
    {"Engine": "Exec", "Exec": {"Command": ["sleep", "60"]}, "Deal": {"Concurrency": 1}}
)
running = states.sync(client=client, body=StateRequest(job_id=sleeper)).state
while running.state.value != "InProgress":
    running = states.sync(
        client=client,
        body=StateRequest(job_id=sleeper, after_version=running.version, wait_seconds=10),
    ).state
# While nothing changes, a long-poll answers at its deadline with the current state.
started = time.monotonic()
same = states.sync(
    client=client, body=StateRequest(job_id=sleeper, after_version=running.version, wait_seconds=0.5)
).state
waited = time.monotonic() - started
check(same.version == running.version and 0.4 <= waited < 10, f"deadline answer after {waited:.2f}s")


def cancel_body(job):
    payload = CancelPayload(client_id=CLIENT_ID, job_id=job, reason="from the generated client", **fresh())
    return CancelRequest(client_public_key=PUBLIC_B64, signature=signature(payload), payload=payload)


after = cancel.sync(client=client, body=cancel_body(sleeper[:8]))
check(not isinstance(after, ErrorBody), f"cancel refused: {after}")
check(after.state.state.value == "Cancelled", "the cancel answer")
again = cancel.sync_detailed(client=client, body=cancel_body(sleeper))
check(again.status_code == 409 and again.parsed.code == "job-terminal", "a second cancel is 409")

print(
    json.dumps(
        {
            "client_id": CLIENT_ID,
            "completed": job_id,
            "cancelled": sleeper,
            "long_polls": long_polls,
        }
    )
)
