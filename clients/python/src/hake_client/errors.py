"""The one exception type of the package: an error answer of the server."""

import json
from typing import Any, Dict, Optional

__all__ = ["HakeError"]


class HakeError(Exception):
    """The server refused a request (or broke a stream it had started).

    Attributes:
        status: the HTTP status (403, 404, ...); 0 when the error came inside a stream that
            had already answered 200 (a log stream ending with ``error``).
        code: the server's stable error code (``not-job-owner``, ``job-not-found``, ...).
        message: the server's human sentence.
        details: the server's ``details`` object (may be empty).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}" if status else f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details: Dict[str, Any] = details or {}

    @classmethod
    def from_response(cls, status: int, body: bytes) -> "HakeError":
        """Reads the server's ``{"code", "message", "details"}`` body; a body that is not
        one (a proxy's HTML page, say) becomes code ``http-<status>`` with its text."""
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("code"), str):
            details = parsed.get("details")
            return cls(
                status,
                parsed["code"],
                str(parsed.get("message", "")),
                details if isinstance(details, dict) else None,
            )
        text = body.decode("utf-8", "replace").strip()
        return cls(status, f"http-{status}", text[:500] or f"HTTP status {status}")
