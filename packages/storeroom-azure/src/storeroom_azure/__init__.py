"""storeroom Azure Blob Storage (azure-storage-blob sync and aio)."""

__all__: list[str] = []
