"""storeroom MySQL/MariaDB backend (PyMySQL sync, asyncmy async)."""

__all__: list[str] = []
