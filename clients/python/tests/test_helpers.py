"""The seed's helpers: logs (get, print, tail through cut connections, sampling), status,
cancel, execution time, waiting; and the same helpers as module-level functions."""

import datetime
import io
import threading
from pathlib import Path

import pytest
from conftest import lines, sh
from proxy import CuttingProxy

import hake_client
from hake_client import Client, JobStateType, LogRecord


def finished(client: Client, script: str) -> str:
    job = client.submit(sh(script))
    client.job_wait_for_job(job, timeout=60)
    return job


def test_job_get_logs_returns_records_with_time_stream_data_and_seq(client: Client) -> None:
    job = finished(client, "echo out-1; echo err-1 >&2; echo out-2")
    records = client.job_get_logs(job)
    # Seqs count over both streams in arrival order (which between two pipes is the OS's).
    assert [r.seq for r in records] == [0, 1, 2]
    assert [str(r) for r in records if r.stream == "stdout"] == ["out-1", "out-2"]
    assert [str(r) for r in records if r.stream == "stderr"] == ["err-1"]
    assert [r.data for r in records if r.stream == "stdout"] == ["out-1\n", "out-2\n"]
    assert all(isinstance(r, LogRecord) for r in records)
    assert all(r.time.tzinfo is not None for r in records)
    assert records[0].time <= records[1].time <= records[2].time
    assert records[0].time_text.endswith("Z") and len(records[0].time_text.split(".")[1]) == 10
    assert client.job_get_logs(job[:8]) == records


def test_since_ms_keeps_the_lines_that_arrived_at_or_after_it(client: Client) -> None:
    job = client.submit(sh("echo before; sleep 1; echo after"))
    client.job_wait_for_job(job, timeout=60)
    records = client.job_get_logs(job)
    assert [str(r) for r in records] == ["before", "after"]
    cut = int(records[1].time.timestamp() * 1000)
    assert [str(r) for r in client.job_get_logs(job, since_ms=cut)] == ["after"]
    assert client.job_get_logs(job, since_ms=cut + 60_000) == []
    assert len(client.job_get_logs(job, since_ms=0)) == 2


def test_job_print_logs_writes_each_line_to_the_file(client: Client) -> None:
    job = finished(client, "echo one; echo two >&2; echo three")
    out = io.StringIO()
    client.job_print_logs(job, file=out)
    printed = out.getvalue().splitlines(keepends=True)
    assert sorted(printed) == ["one\n", "three\n", "two\n"]
    assert printed.index("one\n") < printed.index("three\n")


def test_job_print_logs_defaults_to_stdout(client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    job = finished(client, "echo only")
    client.job_print_logs(job)
    assert capsys.readouterr().out == "only\n"


def test_logs_of_someone_elses_job_are_403(client: Client, other: Client) -> None:
    job = finished(client, "echo secret")
    with pytest.raises(hake_client.HakeError) as err:
        other.job_get_logs(job)
    assert (err.value.status, err.value.code) == (403, "not-job-owner")


def test_job_tail_logs_follows_the_job_from_before_it_starts_to_its_end(
    client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    job = client.submit(sh(lines(5, "0.1")))
    assert client.job_tail_logs(job, sample_logs=False) == "completed"
    assert capsys.readouterr().out == "".join(f"line-{i}\n" for i in range(1, 6))


def test_job_tail_logs_reconnects_after_cut_connections_and_prints_each_line_once(
    client: Client, server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    proxy = CuttingProxy(server, after_records=4, cuts=3)
    try:
        job = client.submit(sh(lines(20, "0.05")))
        with Client(proxy.url, key=client.key) as through_proxy:
            end = through_proxy.job_tail_logs(
                job, refresh_seconds=0.05, sample_logs=False, get_logs_retries=1
            )
    finally:
        proxy.close()
    assert end == "completed"
    assert capsys.readouterr().out == "".join(f"line-{i}\n" for i in range(1, 21))
    assert proxy.cut_count == 3
    assert proxy.log_connections == 4, "three cut streams, then one to the end"


def test_job_tail_logs_gives_up_after_its_retries_when_no_stream_gets_through(
    client: Client, server: str
) -> None:
    proxy = CuttingProxy(server, after_records=0, cuts=1000)
    try:
        job = client.submit(sh("sleep 600"))
        with Client(proxy.url, key=client.key) as through_proxy:
            with pytest.raises(ConnectionError, match="3 attempts"):
                through_proxy.job_tail_logs(job, refresh_seconds=0.01, get_logs_retries=2)
    finally:
        proxy.close()
        client.cancel(job)
    assert proxy.log_connections == 3


def test_job_tail_logs_stops_at_its_timeout(client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    job = client.submit(sh("echo started; sleep 600"))
    try:
        assert client.job_tail_logs(job, timeout=1.5) is None
    finally:
        client.cancel(job)
    assert capsys.readouterr().out == "started\n"


def test_sample_logs_prints_a_sample_and_says_how_many_lines_it_left_out(
    client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    job = finished(client, lines(250))
    # One refresh window for the whole log: the first 100 lines, then the note.
    assert client.job_tail_logs(job, refresh_seconds=3600, sample_logs=True) == "completed"
    out = capsys.readouterr().out.splitlines()
    assert out == [f"line-{i}" for i in range(1, 101)] + ["[hake] 150 lines not shown (sample_logs=True)"]


def test_job_get_exec_time_spans_the_executions_once_finished(client: Client) -> None:
    job = finished(client, "sleep 0.5")
    state = client.get_status(job)
    execution = state.executions[0]
    took = client.job_get_exec_time(job)
    assert took == execution.end_time - execution.start_time
    assert took >= datetime.timedelta(milliseconds=500)


def test_job_get_exec_time_while_running_is_first_to_last_log_line(client: Client) -> None:
    job = client.submit(sh("echo a; sleep 0.3; echo b; sleep 600"))
    try:
        records = []
        while len(records) < 2:
            client.job_tail_logs(job, timeout=0.5, sample_logs=False)
            records = client.job_get_logs(job)
        assert client.job_get_exec_time(job) == records[1].time - records[0].time > datetime.timedelta(0)
    finally:
        client.cancel(job)


def test_job_get_exec_time_of_a_cancelled_job_runs_to_the_cancel(client: Client) -> None:
    job = client.submit(sh("sleep 600"))
    execution = client.cancel(job).executions[0]
    # Cancelled at once, the execution may not have started: then nothing ran.
    if isinstance(execution.start_time, datetime.datetime):
        expected = execution.end_time - execution.start_time
    else:
        expected = datetime.timedelta(0)
    assert client.job_get_exec_time(job) == expected


def test_job_wait_for_job_long_polls_to_the_final_state(client: Client) -> None:
    job = client.submit(sh("sleep 0.5; exit 3"))
    state = client.job_wait_for_job(job, poll_interval_seconds=30)
    assert state.state == JobStateType.ERROR and str(state) == "Error"
    assert state.executions[0].run_output.exit_code == 3


def test_job_wait_for_job_raises_timeout_error(client: Client) -> None:
    job = client.submit(sh("sleep 600"))
    try:
        with pytest.raises(TimeoutError, match=job):
            client.job_wait_for_job(job, poll_interval_seconds=0.2, timeout=1)
    finally:
        client.cancel(job)


def test_job_wait_for_job_returns_when_another_thread_cancels(client: Client) -> None:
    job = client.submit(sh("sleep 600"))
    started = threading.Event()

    def cancel_soon() -> None:
        started.wait()
        client.cancel(job)

    t = threading.Thread(target=cancel_soon)
    t.start()
    started.set()
    assert str(client.job_wait_for_job(job, poll_interval_seconds=30, timeout=120)) == "Cancelled"
    t.join()


def test_the_helpers_work_as_module_level_functions_on_the_default_client(
    monkeypatch: pytest.MonkeyPatch, isolated_env: Path, server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HAKE_SERVER", server)
    client = hake_client.default_client()
    job = client.submit(sh("echo from-module"))
    assert str(hake_client.job_wait_for_job(job, timeout=60)) == "Completed"
    assert str(hake_client.job_get_status(job[:8])) == "Completed"
    assert [str(r) for r in hake_client.job_get_logs(job)] == ["from-module"]
    hake_client.job_print_logs(job)
    assert hake_client.job_tail_logs(job) == "completed"
    assert capsys.readouterr().out == "from-module\nfrom-module\n"
    assert hake_client.job_get_exec_time(job) == client.job_get_exec_time(job) > datetime.timedelta(0)
    sleeper = client.submit(sh("sleep 600"))
    assert str(hake_client.job_cancel(sleeper)) == "Cancelled"
