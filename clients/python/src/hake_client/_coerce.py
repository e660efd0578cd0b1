"""Turning what users hand the client into what the wire wants: a job (id, prefix or
object) into its id, a spec (dict, JSON or YAML text, file, model) into a dict, a state
name into its enum; and unpacking result tarballs safely."""

import json
import os
import tarfile
from pathlib import Path
from typing import Any, Dict, Mapping, Union

import yaml

from ._generated.models import Job, JobState, JobStateType, JobWithInfo, Spec, SubmitResponse

__all__ = ["JobRef", "SpecSource", "job_id", "spec_dict", "state_type", "extract_tarball"]

#: A job: its id, a unique prefix of 8+ characters, or an object carrying its id (a
#: ``JobState``, ``Job``, ``JobWithInfo``, ``SubmitResponse``, or anything with ``job_id``).
JobRef = Union[str, JobState, Job, JobWithInfo, SubmitResponse, Any]
#: A spec: a dict, JSON or YAML text, a path to such a file, or a generated ``Spec``.
SpecSource = Union[Mapping[str, Any], str, bytes, "os.PathLike[str]", Spec]


def job_id(job: JobRef) -> str:
    """The id (or prefix) a job reference names."""
    if isinstance(job, str):
        text = job.strip()
        if not text:
            raise ValueError("a job id is required")
        return text
    if isinstance(job, JobState):
        return job.job_id
    if isinstance(job, (JobWithInfo, SubmitResponse)):
        return job_id(job.job)
    if isinstance(job, Job):
        if job.metadata and isinstance(job.metadata.id, str):
            return job.metadata.id
        raise ValueError("this Job has no Metadata.ID")
    for attr in ("job_id", "id"):
        value = getattr(job, attr, None)
        if isinstance(value, str) and value:
            return value
    raise TypeError(f"cannot tell which job {type(job).__name__} names: pass its id")


def spec_dict(spec: SpecSource) -> Dict[str, Any]:
    """The spec as a dict; a whole payload (``{"Spec": ...}``) gives its ``Spec``."""
    if isinstance(spec, Spec):
        value: Any = spec.to_dict()
    elif isinstance(spec, Mapping):
        value = dict(spec)
    elif isinstance(spec, (str, bytes)):
        text = spec.decode("utf-8") if isinstance(spec, bytes) else spec
        value = _parse_text(text, "the spec text")
    elif isinstance(spec, os.PathLike):
        value = _parse_text(Path(spec).read_text(encoding="utf-8"), os.fspath(spec))
    else:
        raise TypeError(f"a spec is a dict, JSON or YAML text, or a path, not {type(spec).__name__}")
    if isinstance(value, Mapping) and isinstance(value.get("Spec"), Mapping):
        value = value["Spec"]
    if not isinstance(value, Mapping):
        raise ValueError(f"a spec is a JSON/YAML object, not {type(value).__name__}")
    return dict(value)


def _parse_text(text: str, origin: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as json_err:
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as yaml_err:
            raise ValueError(f"{origin} is neither JSON ({json_err}) nor YAML ({yaml_err})") from None


def state_type(state: Union[str, JobStateType]) -> JobStateType:
    """A job state from its name, case-insensitively."""
    if isinstance(state, JobStateType):
        return state
    for member in JobStateType:
        if member.value.lower() == str(state).strip().lower():
            return member
    names = ", ".join(m.value for m in JobStateType)
    raise ValueError(f"{state!r} is not a job state ({names})")


def extract_tarball(archive: Path, dest: Path) -> None:
    """Unpacks a result tarball into ``dest``, refusing members that would land outside
    it (absolute paths, ``..``, links pointing out, devices)."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, mode="r:gz") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
            return
        root = dest.resolve()
        for member in tar.getmembers():
            target = (dest / member.name).resolve()
            if root != target and root not in target.parents:
                raise ValueError(f"result member {member.name!r} points outside {dest}")
            if member.issym() or member.islnk():
                link = (target.parent / member.linkname).resolve()
                if root != link and root not in link.parents:
                    raise ValueError(f"result link {member.name!r} points outside {dest}")
            if member.isdev():
                raise ValueError(f"result member {member.name!r} is a device")
        tar.extractall(dest)
