from enum import Enum


class HistoryType(str, Enum):
    EXECUTIONLEVEL = "ExecutionLevel"
    JOBLEVEL = "JobLevel"

    def __str__(self) -> str:
        return str(self.value)
