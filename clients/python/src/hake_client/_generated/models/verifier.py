from enum import Enum


class Verifier(str, Enum):
    DETERMINISTIC = "Deterministic"
    EXTERNAL = "External"
    NOOP = "Noop"

    def __str__(self) -> str:
        return str(self.value)
