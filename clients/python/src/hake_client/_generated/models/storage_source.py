from enum import Enum


class StorageSource(str, Enum):
    ESTUARY = "Estuary"
    FILECOIN = "Filecoin"
    FILECOINUNSEALED = "FilecoinUnsealed"
    INLINE = "Inline"
    IPFS = "IPFS"
    LOCALDIRECTORY = "LocalDirectory"
    REPOCLONE = "RepoClone"
    REPOCLONELFS = "RepoCloneLFS"
    S3 = "S3"
    URLDOWNLOAD = "URLDownload"

    def __str__(self) -> str:
        return str(self.value)
