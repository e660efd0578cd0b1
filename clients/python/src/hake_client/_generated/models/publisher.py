from enum import Enum


class Publisher(str, Enum):
    ESTUARY = "Estuary"
    FILECOIN = "Filecoin"
    IPFS = "Ipfs"
    LOCAL = "Local"
    NOOP = "Noop"
    S3 = "S3"

    def __str__(self) -> str:
        return str(self.value)
