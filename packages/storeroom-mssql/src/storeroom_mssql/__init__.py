"""storeroom SQL Server backend (pyodbc sync, aioodbc async)."""

__all__: list[str] = []
