"""Drives a live hake server with Bacalhau's own Python clients (bacalhau-sdk and
bacalhau-apiclient from PyPI). Run by tests/api/python_clients.rs with
BACALHAU_DIR, BACALHAU_API_HOST and BACALHAU_API_PORT set before Python starts.

Exits non-zero with a message on the first mismatch; prints one JSON line of facts
for the Rust side to check against the server."""

import json
import sys
import time

from bacalhau_sdk.api import api_instance, cancel, events, list as list_jobs, results, states, submit
from bacalhau_sdk.config import get_client_id, get_client_public_key, sign_for_client
from bacalhau_apiclient.models.cancel_request import CancelRequest
from bacalhau_apiclient.models.deal import Deal
from bacalhau_apiclient.models.log_request import LogRequest
from bacalhau_apiclient.models.publisher_spec import PublisherSpec
from bacalhau_apiclient.models.spec import Spec
from bacalhau_apiclient.models.state_request import StateRequest
from bacalhau_apiclient.rest import ApiException


def check(cond, msg):
    if not cond:
        print("FAILED: " + msg, file=sys.stderr)
        sys.exit(1)


def wait_state(job_id, wanted, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = states(job_id).state.state
        if s in wanted:
            return s
        time.sleep(0.1)
    check(False, f"job {job_id} never reached {wanted}")


# Submit with the SDK's own models, as its README does (Noop engine, lower-case enums).
noop = submit(
    dict(
        APIVersion="V1beta1",
        ClientID=get_client_id(),
        Spec=Spec(
            engine="noop",
            verifier="Noop",
            publisher_spec=PublisherSpec(type="noop"),
            deal=Deal(concurrency=1),
            annotations=["café <&>", "sdk"],
        ),
    )
)
noop_id = noop.job.metadata.id
check(noop.job.metadata.client_id == get_client_id(), "ClientID echoed")
check(wait_state(noop_id, ["Completed"]) == "Completed", "noop completes")

jobs = list_jobs().jobs
check(any(j.job.metadata.id == noop_id for j in jobs), "list shows the job")
check(all(j.job.metadata.client_id == get_client_id() for j in jobs), "list is scoped to the client")

st = states(noop_id).state
check(st.state == "Completed" and st.version == 3, f"states: {st.state} v{st.version}")
check(len(st.executions) == 1 and st.executions[0].state == "Completed", "one completed execution")

ev = events(noop_id).events
check(ev[0].comment == "Job created" and ev[0].type == "JobLevel", "first event is Job created")
check(len(ev) == 5, f"five history records, got {len(ev)}")

res = results(noop_id).results
check(len(res) == 1 and res[0].node_id == st.executions[0].node_id, "one result from our node")

# A running job (hake's Exec extension, sent as a plain dict) cancelled with the SDK helper.
sleeper = submit(
    dict(
        APIVersion="V1beta1",
        ClientID=get_client_id(),
        Spec={"Engine": "Exec", "Exec": {"Command": ["sleep", "30"]}, "Deal": {"Concurrency": 1},
              "PublisherSpec": {"Type": "noop"}},
    )
)
sleeper_id = sleeper.job.metadata.id
wait_state(sleeper_id, ["InProgress"])
cancelled = cancel(sleeper_id)
check(cancelled.state.state == "Cancelled", f"cancel answered {cancelled.state.state}")

# Cancel with a Reason, built by hand as the reference recipe shows.
second = submit(
    dict(
        APIVersion="V1beta1",
        ClientID=get_client_id(),
        Spec={"Engine": "Exec", "Exec": {"Command": ["sleep", "30"]}, "Deal": {"Concurrency": 1}},
    )
)
p = {"ClientID": get_client_id(), "JobID": second.job.metadata.id, "Reason": "stopped from Python"}
raw = json.dumps(p, separators=(", ", ": ")).encode()
req = CancelRequest(client_public_key=get_client_public_key(), payload=p, signature=sign_for_client(raw))
resp = api_instance.cancel(req)
check(resp.state.executions == [] or resp.state.executions[0].status == "stopped from Python", "reason recorded")

# Logs: apiclient's JobApi.logs() as a plain POST, read as a stream of NDJSON lines while
# the job is still printing (Follow=true).
talker = submit(
    dict(
        APIVersion="V1beta1",
        ClientID=get_client_id(),
        Spec={"Engine": "Exec", "Deal": {"Concurrency": 1},
              "Exec": {"Command": ["sh", "-c", "echo one; sleep 0.3; echo two >&2; sleep 0.3; echo three"]}},
    )
)
talker_id = talker.job.metadata.id
wait_state(talker_id, ["InProgress", "Completed"])
execution_id = states(talker_id).state.executions[0].compute_reference
lp = {"ClientID": get_client_id(), "ExecutionID": execution_id, "Follow": True, "JobID": talker_id, "WithHistory": True}
lraw = json.dumps(lp, separators=(", ", ": ")).encode()
lreq = LogRequest(client_public_key=get_client_public_key(), payload=lp, signature=sign_for_client(lraw))
stream = api_instance.logs(lreq, _preload_content=False)
frames, pending = [], b""
for chunk in stream.stream(1024):
    pending += chunk
    while b"\n" in pending:
        line, pending = pending.split(b"\n", 1)
        frames.append(json.loads(line))
data = [(f["Tag"], f["Data"]) for f in frames if f["Tag"] in (1, 2)]
check(data == [(1, "one\n"), (2, "two\n"), (1, "three\n")], f"log frames {data}")
check([f["Seq"] for f in frames if f["Tag"] in (1, 2)] == [0, 1, 2], "seqs count from 0")
check("End" in frames[-1] and frames[-1]["End"]["ExitCode"] == 0, f"last frame {frames[-1]}")

# Errors come back as ApiException with our JSON body.
try:
    api_instance.states(StateRequest(client_id=get_client_id(), job_id="00000000-0000-4000-8000-000000000000"))
    check(False, "unknown job must fail")
except ApiException as e:
    check(e.status == 404, f"unknown job status {e.status}")
    check(json.loads(e.body)["code"] == "job-not-found", "error body code")

try:
    cancel(noop_id)
    check(False, "cancel of a finished job must fail")
except ApiException as e:
    check(e.status == 409, f"terminal cancel status {e.status}")

print(json.dumps({"client_id": get_client_id(), "noop": noop_id, "cancelled": sleeper_id}))
