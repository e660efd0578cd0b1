from enum import Enum


class StateChangeExecutionStateTypePrevious(str, Enum):
    ASKFORBID = "AskForBid"
    ASKFORBIDACCEPTED = "AskForBidAccepted"
    ASKFORBIDREJECTED = "AskForBidRejected"
    BIDACCEPTED = "BidAccepted"
    BIDREJECTED = "BidRejected"
    CANCELLED = "Cancelled"
    COMPLETED = "Completed"
    FAILED = "Failed"
    NEW = "New"
    RESULTACCEPTED = "ResultAccepted"
    RESULTREJECTED = "ResultRejected"
    WAITINGVERIFICATION = "WaitingVerification"

    def __str__(self) -> str:
        return str(self.value)
