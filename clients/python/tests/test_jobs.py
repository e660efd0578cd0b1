"""The job methods against a live server: submit (dict, JSON, YAML, file, payload), status,
list with paging and filters, events, results and their download, cancel, nodes."""

import json
import tarfile
from pathlib import Path

import pytest
import yaml
from conftest import sh

from hake_client import Client, HakeError, JobStateType, Node
from hake_client.models import JobState


def test_submit_takes_a_dict_json_yaml_a_file_or_a_whole_payload(client: Client, tmp_path: Path) -> None:
    spec = sh("echo hi")
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    jobs = [
        client.submit(spec),
        client.submit(json.dumps(spec)),
        client.submit(yaml.safe_dump(spec)),
        client.submit(path),
        client.submit(json.dumps({"Spec": spec}).encode()),
    ]
    assert len(set(jobs)) == 5 and all(len(j) == 36 for j in jobs)
    for job in jobs:
        assert client.job_wait_for_job(job, timeout=60).state == JobStateType.COMPLETED


def test_a_spec_that_is_not_an_object_is_refused_before_sending(client: Client) -> None:
    with pytest.raises(ValueError, match="neither JSON"):
        client.submit("{not: [valid")
    with pytest.raises(ValueError, match="object"):
        client.submit("[1, 2]")


def test_an_invalid_spec_is_the_servers_400_as_a_hake_error(client: Client) -> None:
    with pytest.raises(HakeError) as err:
        client.submit({"Engine": "Exec", "Deal": {"Concurrency": 1}})
    assert err.value.status == 400
    assert err.value.code == "invalid-request"
    assert err.value.message


def test_status_takes_an_id_a_prefix_or_a_job_object_and_prints_the_state_name(client: Client) -> None:
    job = client.submit(sh("true"))
    final = client.job_wait_for_job(job, timeout=60)
    assert str(final) == "Completed"
    listed = next(client.list_jobs())
    for ref in (job, job[:8], final, listed, listed.job):
        state = client.get_status(ref)
        assert isinstance(state, JobState)
        assert state.job_id == job
        assert str(state) == "Completed"
    assert str(final.executions[0]) == "Completed"
    assert str(listed) == f"{job} Completed"
    assert str(client.job_get_status(job[:8])) == "Completed"


def test_an_unknown_job_is_404_and_a_short_prefix_400(client: Client) -> None:
    with pytest.raises(HakeError) as err:
        client.get_status("00000000-0000-4000-8000-000000000000")
    assert (err.value.status, err.value.code) == (404, "job-not-found")
    with pytest.raises(HakeError) as err:
        client.get_status("abc")
    assert err.value.status == 400
    with pytest.raises(ValueError):
        client.get_status("  ")
    with pytest.raises(TypeError):
        client.get_status(42)


def test_list_jobs_pages_through_every_job_of_this_client_and_filters(client: Client, other: Client) -> None:
    mine = [client.submit(sh("true", Annotations=[f"n{i}"])) for i in range(5)]
    other.submit(sh("true"))
    for job in mine:
        client.job_wait_for_job(job, timeout=60)
    listed = [j.job.metadata.id for j in client.list_jobs(page_size=2)]
    assert listed == mine, "five jobs over three pages, in submit order"
    newest = [j.job.metadata.id for j in client.list_jobs(page_size=2, sort_reverse=True, limit=3)]
    assert newest == mine[::-1][:3]
    assert [j.job.metadata.id for j in client.list_jobs(include_tags=["n3"])] == [mine[3]]
    assert len(list(client.list_jobs(exclude_tags=["n3"]))) == 4
    assert list(client.list_jobs(states=["InProgress"])) == []
    assert len(list(client.list_jobs(states=["completed"]))) == 5
    theirs = [j.job.metadata.client_id for j in client.list_jobs(client_id=other.client_id)]
    assert theirs == [other.client_id]
    everyone = {j.job.metadata.client_id for j in client.list_jobs(return_all=True)}
    assert {client.client_id, other.client_id} <= everyone
    with pytest.raises(ValueError, match="not a job state"):
        next(client.list_jobs(states=["Sleeping"]))


def test_events_are_the_history_oldest_first_with_filters(client: Client) -> None:
    job = client.submit(sh("true"))
    client.job_wait_for_job(job, timeout=60)
    history = client.events(job[:8])
    assert history[0].comment == "Job created"
    assert [h.time for h in history] == sorted(h.time for h in history)
    job_level = client.events(job, exclude_execution_level=True)
    assert job_level and all(str(h.type_) == "JobLevel" for h in job_level)
    assert all(str(h.type_) == "ExecutionLevel" for h in client.events(job, exclude_job_level=True))
    assert client.events(job, since=history[-1].time.replace(year=2999)) == []


def test_results_are_published_and_download_unpacks_them(client: Client, tmp_path: Path) -> None:
    job = client.submit(
        sh(
            "echo out-line; echo 42 > $HAKE_OUTPUTS/out/answer",
            outputs=[{"Name": "out", "path": "/outputs"}],
            PublisherSpec={"Type": "Local"},
        )
    )
    client.job_wait_for_job(job, timeout=60)
    results = client.results(job)
    assert len(results) == 1 and results[0].data.url.endswith(".tar.gz")
    dirs = client.download_results(job, tmp_path / "dl")
    assert dirs == [tmp_path / "dl" / results[0].data.name]
    assert (dirs[0] / "out" / "answer").read_text() == "42\n"
    assert (dirs[0] / "stdout").read_text() == "out-line\n"
    assert (dirs[0] / "exitCode").read_text().strip() == "0"


def test_a_job_without_a_publisher_has_no_results(client: Client, tmp_path: Path) -> None:
    job = client.submit(sh("true"))
    client.job_wait_for_job(job, timeout=60)
    assert client.download_results(job, tmp_path) == []


def test_a_tarball_member_that_escapes_the_destination_is_refused(tmp_path: Path) -> None:
    from hake_client._coerce import extract_tarball

    evil = tmp_path / "evil.tar.gz"
    payload = tmp_path / "payload"
    payload.write_text("x")
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(payload, arcname="../escaped")
    with pytest.raises((ValueError, tarfile.TarError)):
        extract_tarball(evil, tmp_path / "dest")
    assert not (tmp_path / "escaped").exists()


def test_cancel_stops_a_running_job_and_a_second_cancel_is_409(client: Client) -> None:
    job = client.submit(sh("sleep 600"))
    state = client.job_cancel(job[:8])
    assert str(state) == "Cancelled" and state.job_id == job
    with pytest.raises(HakeError) as err:
        client.cancel(job, reason="again")
    assert (err.value.status, err.value.code) == (409, "job-terminal")


def test_cancel_of_someone_elses_job_is_403_not_job_owner(client: Client, other: Client) -> None:
    job = client.submit(sh("sleep 600"))
    with pytest.raises(HakeError) as err:
        other.job_cancel(job)
    assert err.value.status == 403
    assert err.value.code == "not-job-owner"
    assert "403 not-job-owner" in str(err.value)
    assert str(client.get_status(job)) in ("New", "Queued", "InProgress")
    client.cancel(job)


def test_nodes_of_a_lone_node_is_a_one_node_list_of_itself_connected(client: Client) -> None:
    info = client.node_info()
    nodes = client.nodes()
    assert len(nodes) == 1 and isinstance(nodes[0], Node)
    assert nodes[0].id == info.peer_info.id and str(nodes[0]) == info.peer_info.id
    assert "Exec" in nodes[0].engines
    assert nodes[0].connection == "CONNECTED"
    assert nodes[0].raw["NodeType"] == "Compute"
    assert client.get_status(client.submit(sh("true"))).job_id


def test_node_records_of_a_cluster_read_like_bacalhaus() -> None:
    node = Node.from_dict(
        {
            "PeerInfo": {"ID": "n-1", "Addrs": []},
            "NodeType": "Compute",
            "Labels": {"zone": "a"},
            "ComputeNodeInfo": {"ExecutionEngines": ["Docker", "Wasm"]},
            "Connection": "CONNECTED",
        }
    )
    assert (node.id, node.labels, node.engines, node.connection) == (
        "n-1",
        {"zone": "a"},
        ["Docker", "Wasm"],
        "CONNECTED",
    )


def test_an_error_body_that_is_not_the_servers_still_makes_a_hake_error() -> None:
    err = HakeError.from_response(502, b"<html>Bad Gateway</html>")
    assert (err.status, err.code, err.message) == (502, "http-502", "<html>Bad Gateway</html>")
    ours = HakeError.from_response(404, b'{"code":"job-not-found","message":"no","details":{"id":"x"}}')
    assert (ours.code, ours.message, ours.details) == ("job-not-found", "no", {"id": "x"})
