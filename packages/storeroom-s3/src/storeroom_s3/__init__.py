"""storeroom S3-compatible object storage (boto3 sync, aiobotocore async)."""

__all__: list[str] = []
