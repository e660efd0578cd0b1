from enum import Enum


class Network(str, Enum):
    FULL = "Full"
    HTTP = "HTTP"
    NONE = "None"

    def __str__(self) -> str:
        return str(self.value)
