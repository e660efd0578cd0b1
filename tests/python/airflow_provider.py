"""The Bacalhau Airflow provider (bacalhau-airflow 1.3.2) against a live hake server. Run
by tests/api/airflow.rs with BACALHAU_DIR, BACALHAU_API_HOST and BACALHAU_API_PORT set.

Mode "sdk" sends the provider's payload exactly as BacalhauHook.submit_job builds it
(lower-case `apiversion`, `clientid`, `spec` and lower-case spec keys) through the real
`bacalhau_sdk.api.submit`, then runs the provider's completion check over
`events(...).to_dict()`. Mode "hook" does the same through the provider's own
BacalhauHook (needs apache-airflow). A Noop engine and publisher let it run anywhere.

Exits non-zero with a message on the first mismatch; prints one JSON line of facts."""

import json
import sys
import time

from bacalhau_sdk.config import get_client_id

# The shape of the provider's example DAG, with Noop so no Docker or IPFS is needed.
JOB_SPEC = {
    "engine": "Noop",
    "verifier": "Noop",
    "publisher": "Noop",
    "docker": {"image": "ubuntu", "entrypoint": ["echo", "Hello World!"]},
    "deal": {"concurrency": 1},
}


def check(cond, msg):
    if not cond:
        print("FAILED: " + msg, file=sys.stderr)
        sys.exit(1)


def terminal_state(events):
    """BacalhauSubmitJobOperator.execute's test, verbatim in substance."""
    if events["events"]:
        for event in events["events"]:
            if "type" in event:
                if event["type"] == "JobLevel":
                    if "job_state" in event:
                        if event["job_state"] and "new" in event["job_state"]:
                            if event["job_state"]["new"] in ("ComputeError", "Completed", "Cancelled", "Error"):
                                return event["job_state"]["new"]
    return None


mode = sys.argv[1]
if mode == "sdk":
    from bacalhau_sdk.api import events, results, submit

    response = submit(dict(apiversion="V1beta1", clientid=get_client_id(), spec=dict(JOB_SPEC)))
    job_id = str(response.job.metadata.id)
    check(response.job.metadata.client_id == get_client_id(), "ClientID echoed")
    get_events = lambda: events(job_id).to_dict()
    get_results = lambda: results(job_id).to_dict()["results"]
elif mode == "hook":
    from bacalhau_airflow.hooks import BacalhauHook

    hook = BacalhauHook()
    job_id = hook.submit_job(api_version="V1beta1", job_spec=dict(JOB_SPEC))
    get_events = lambda: hook.get_events(job_id)
    get_results = lambda: hook.get_results(job_id)
else:
    check(False, f"unknown mode {mode}")

check(len(job_id) == 36, f"a job id: {job_id!r}")
deadline = time.time() + 30
final = None
while final is None and time.time() < deadline:
    final = terminal_state(get_events())
    if final is None:
        time.sleep(0.2)
check(final == "Completed", f"the provider's check saw {final!r}")

res = get_results()
check(len(res) == 1 and "data" in res[0], f"one result: {res}")

print(json.dumps({"client_id": get_client_id(), "job_id": job_id, "final": final}))
