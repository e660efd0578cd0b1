"""Log records and the reading of ``POST /requester/logs`` NDJSON streams.

Each line of the stream is a frame (the generated ``LogFrame``): ``Tag`` 1 (stdout) and 2
(stderr) carry one record with its ``Seq`` and arrival ``Time``; ``Tag`` 0 carries a
``Gap`` (records no longer held), a ``Heartbeat`` (every 15 s of silence) or the ``End``
that closes every stream. :func:`follow` keeps a followed stream going across dropped
connections by reopening it with ``AfterSeq``, so each record is handed over once.
"""

import datetime
import json
import re
import sys
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import IO, Callable, Iterator, Optional

import httpx

from ._generated.models import LogEnd, LogFrame, LogGap
from .errors import HakeError

__all__ = ["LogRecord", "LogEnd", "Sampler", "follow", "read_frames", "record_of"]

#: Silence (not even a heartbeat, which the server sends every 15 s) after which a
#: followed stream is reopened.
IDLE_SECONDS = 60.0
#: With ``sample_logs``, at most this many lines are printed per ``refresh_seconds``.
SAMPLE_LINES = 100

_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def parse_time(text: str) -> datetime.datetime:
    """An RFC 3339 time with up to nanoseconds, as an aware datetime (to the microsecond)."""
    m = _TIME.match(text)
    if not m:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    base, frac, zone = m.groups()
    micros = int((frac or "0")[:6].ljust(6, "0"))
    tz = datetime.timezone.utc
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        tz = datetime.timezone(sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    return datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(microsecond=micros, tzinfo=tz)


@dataclass(frozen=True)
class LogRecord:
    """One line of a job's output. ``str()`` is its text (without the newline)."""

    #: Position in the execution's log, from 0, over both streams.
    seq: int
    #: Arrival time (UTC; the server keeps nanoseconds, see ``time_text``).
    time: datetime.datetime
    #: ``stdout`` or ``stderr``.
    stream: str
    #: The line as written, with its newline when it had one.
    data: str
    #: The arrival time as the server sent it (RFC 3339, nanoseconds).
    time_text: str = ""

    def __str__(self) -> str:
        return self.data[:-1] if self.data.endswith("\n") else self.data


def record_of(frame: LogFrame) -> Optional[LogRecord]:
    """The record a frame carries, or None for a control frame."""
    if frame.tag not in (1, 2) or not isinstance(frame.seq, int):
        return None
    text = frame.time if isinstance(frame.time, str) else ""
    when = parse_time(text) if text else datetime.datetime.fromtimestamp(0, datetime.timezone.utc)
    data = frame.data if isinstance(frame.data, str) else ""
    return LogRecord(frame.seq, when, "stdout" if frame.tag == 1 else "stderr", data, text)


def read_frames(response: httpx.Response) -> Iterator[LogFrame]:
    """The frames of an open NDJSON stream, complete lines only: a line cut by a dropped
    connection is never parsed (the drop surfaces as httpx's exception)."""
    pending = b""
    for chunk in response.iter_raw():
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except ValueError as e:
                raise HakeError(0, "unreadable-log-record", f"the server sent {line[:200]!r}: {e}") from None
            yield LogFrame.from_dict(raw)


def end_of(frame: LogFrame) -> Optional[LogEnd]:
    """The frame's End, if it is the last frame of its stream."""
    return frame.end if isinstance(frame.end, LogEnd) else None


class Sampler:
    """Prints records to a file; with ``sample`` on, at most :data:`SAMPLE_LINES` per
    ``window_seconds`` and a note of how many lines were left out."""

    def __init__(self, file: Optional[IO[str]], sample: bool, window_seconds: float) -> None:
        self.file = file
        self.sample = sample
        self.window = max(window_seconds, 0.001)
        self.started = time.monotonic()
        self.shown = 0
        self.skipped = 0

    def _out(self) -> IO[str]:
        return self.file if self.file is not None else sys.stdout

    def emit(self, record: LogRecord) -> None:
        """Prints (or, over the sample's budget, counts) one record."""
        now = time.monotonic()
        if now - self.started >= self.window:
            self.flush()
            self.started, self.shown = now, 0
        if self.sample and self.shown >= SAMPLE_LINES:
            self.skipped += 1
            return
        self.shown += 1
        out = self._out()
        out.write(record.data if record.data.endswith("\n") else record.data + "\n")
        out.flush()

    def note(self, text: str) -> None:
        """A line of the client's own (a gap), marked as such."""
        self._out().write(f"[hake] {text}\n")

    def flush(self) -> None:
        """Reports the lines the sample left out since the last report."""
        if self.skipped:
            self.note(f"{self.skipped} lines not shown (sample_logs=True)")
            self.skipped = 0


OpenStream = Callable[[Optional[int], float], "AbstractContextManager[httpx.Response]"]


def follow(
    open_stream: OpenStream,
    emit: Callable[[LogRecord], None],
    note: Callable[[str], None],
    *,
    refresh_seconds: float,
    timeout: Optional[float],
    retries: int,
) -> Optional[str]:
    """Follows a log to its End across dropped connections.

    ``open_stream(after_seq, read_timeout)`` opens one followed stream (resuming after
    ``after_seq`` when not None). Each record goes to ``emit`` once, in seq order. A
    connection that breaks, goes silent for :data:`IDLE_SECONDS` or ends with
    ``server_shutdown`` or ``error`` is reopened after ``refresh_seconds``; ``retries``
    attempts in a row that deliver nothing make it give up with ``ConnectionError``.
    Returns the End's reason, or None when ``timeout`` seconds passed first.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    last_seq: Optional[int] = None
    failures = 0

    def remaining() -> float:
        return IDLE_SECONDS if deadline is None else deadline - time.monotonic()

    while True:
        if remaining() <= 0:
            return None
        delivered = False
        try:
            with open_stream(last_seq, min(IDLE_SECONDS, max(remaining(), 0.05))) as response:
                for frame in read_frames(response):
                    delivered = True
                    record = record_of(frame)
                    end = end_of(frame)
                    if record is not None:
                        if last_seq is None or record.seq > last_seq:
                            last_seq = record.seq
                            emit(record)
                    elif isinstance(frame.gap, LogGap):
                        gap = frame.gap
                        note(f"log records {gap.from_}..={gap.to} are no longer held by the server")
                        last_seq = gap.to if last_seq is None else max(last_seq, gap.to)
                    elif end is not None:
                        if end.reason not in ("server_shutdown", "error"):
                            return end.reason
                        why = f"the stream ended with {end.reason}"
                        break
                    if remaining() <= 0:
                        return None
                else:
                    why = "the stream ended without an End record"
        except httpx.TimeoutException:
            if remaining() <= 0:
                return None
            why = f"no data or heartbeat for {IDLE_SECONDS:.0f} s"
        except httpx.TransportError as e:
            why = f"{type(e).__name__}: {e}"
        except HakeError as e:
            if e.status not in (429, 502, 503, 504):
                raise
            why = str(e)
        failures = 0 if delivered else failures + 1
        if failures > retries:
            raise ConnectionError(f"gave up following the log after {failures} attempts: {why}")
        time.sleep(max(0.0, min(refresh_seconds, remaining())))
