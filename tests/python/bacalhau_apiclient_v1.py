"""Drives a live hake server with bacalhau-apiclient 1.0.4, whose JobApi calls the
`/api/v1/requester/*` paths. bacalhau-sdk 1.2.1's `api` module does not import against
1.0.4's renamed models, so this script uses the SDK only for its key handling and
signing (`bacalhau_sdk.config`) and calls JobApi directly, exactly as the SDK does.
Responses are read raw (`_preload_content=False`) because 1.0.4's response models
describe the later v1.1 job model."""

import json
import sys
import time

from bacalhau_apiclient.api import job_api
from bacalhau_apiclient.models.legacy_cancel_request import LegacyCancelRequest
from bacalhau_apiclient.models.legacy_events_request import LegacyEventsRequest
from bacalhau_apiclient.models.legacy_list_request import LegacyListRequest
from bacalhau_apiclient.models.legacy_state_request import LegacyStateRequest
from bacalhau_apiclient.models.legacy_submit_request import LegacySubmitRequest
from bacalhau_sdk.config import get_client_id, get_client_public_key, init_config, sign_for_client

conf = init_config()
api = job_api.JobApi(job_api.ApiClient(conf))


def check(cond, msg):
    if not cond:
        print("FAILED: " + msg, file=sys.stderr)
        sys.exit(1)


def body(resp):
    check(resp.status == 200, f"HTTP {resp.status}")
    return json.loads(resp.data)


def signed(payload):
    raw = json.dumps(payload, separators=(", ", ": ")).encode()
    return dict(client_public_key=get_client_public_key(), payload=payload, signature=sign_for_client(raw))


def state(job_id):
    req = LegacyStateRequest(client_id=get_client_id(), job_id=job_id)
    return body(api.states(req, _preload_content=False))["state"]


def wait(job_id, wanted):
    deadline = time.time() + 30
    while time.time() < deadline:
        s = state(job_id)
        if s["State"] in wanted:
            return s
        time.sleep(0.1)
    check(False, f"{job_id} never reached {wanted}")


payload = {"APIVersion": "V1beta1", "ClientID": get_client_id(),
           "Spec": {"Engine": "noop", "Verifier": "Noop", "PublisherSpec": {"Type": "noop"},
                    "Deal": {"Concurrency": 1}, "Annotations": ["v1-paths"]}}
job = body(api.submit(LegacySubmitRequest(**signed(payload)), _preload_content=False))["job"]
job_id = job["Metadata"]["ID"]
check(wait(job_id, ["Completed"])["Version"] == 3, "noop completed at version 3")

listed = body(api.list(LegacyListRequest(client_id=get_client_id(), max_jobs=5, return_all=False,
                                         sort_by="created_at", sort_reverse=True,
                                         include_tags=[], exclude_tags=[]), _preload_content=False))
check([j["Job"]["Metadata"]["ID"] for j in listed["jobs"]] == [job_id], "list shows exactly our job")

events = body(api.events(LegacyEventsRequest(client_id=get_client_id(), job_id=job_id), _preload_content=False))
check(events["events"][0]["Comment"] == "Job created", "history starts with Job created")

results = body(api.results(LegacyStateRequest(client_id=get_client_id(), job_id=job_id), _preload_content=False))
check(len(results["results"]) == 1, "one result")

sleeper = {"APIVersion": "V1beta1", "ClientID": get_client_id(),
           "Spec": {"Engine": "Exec", "Exec": {"Command": ["sleep", "30"]}, "Deal": {"Concurrency": 1}}}
sleeper_id = body(api.submit(LegacySubmitRequest(**signed(sleeper)), _preload_content=False))["job"]["Metadata"]["ID"]
wait(sleeper_id, ["InProgress"])
cancel = {"ClientID": get_client_id(), "JobID": sleeper_id, "Reason": "from apiclient 1.0.4"}
st = body(api.cancel(LegacyCancelRequest(**signed(cancel)), _preload_content=False))["state"]
check(st["State"] == "Cancelled", f"cancelled, got {st['State']}")

print(json.dumps({"client_id": get_client_id(), "noop": job_id, "cancelled": sleeper_id}))
