from enum import Enum


class StateChangeJobStateTypeNew(str, Enum):
    CANCELLED = "Cancelled"
    COMPLETED = "Completed"
    COMPLETEDPARTIALLY = "CompletedPartially"
    ERROR = "Error"
    INPROGRESS = "InProgress"
    NEW = "New"
    QUEUED = "Queued"

    def __str__(self) -> str:
        return str(self.value)
