"""storeroom PostgreSQL backend (psycopg 3, sync and async)."""

__all__: list[str] = []
