"""storeroom for FastAPI: a lifespan, dependencies, streaming uploads and downloads, health, errors.

An integration, not a plugin: ``pip install "storeroom[fastapi]"``. See docs/fastapi.md.
"""

from storeroom_fastapi.dependencies import (
    AsyncDatabaseDep,
    AsyncStorageDep,
    DatabaseDep,
    RoomDep,
    StorageDep,
    async_database,
    async_storage,
    database,
    policy,
    storage,
)
from storeroom_fastapi.downloads import content_disposition, download_response
from storeroom_fastapi.errors import error_response, install_error_handlers, status_for
from storeroom_fastapi.health import health_report, health_response, health_router
from storeroom_fastapi.lifespan import get_storeroom, open_storeroom, storeroom_lifespan
from storeroom_fastapi.multipart import FormUpload, upload_form
from storeroom_fastapi.tenancy import (
    TenantResolver,
    async_repository,
    claim_tenant,
    header_tenant,
    repository,
    subdomain_tenant,
)
from storeroom_fastapi.units import UnitOfWorkDep, async_unit_of_work
from storeroom_fastapi.uploads import upload_body, upload_file

__all__ = [
    "AsyncDatabaseDep",
    "AsyncStorageDep",
    "DatabaseDep",
    "FormUpload",
    "RoomDep",
    "StorageDep",
    "TenantResolver",
    "UnitOfWorkDep",
    "async_database",
    "async_repository",
    "async_storage",
    "async_unit_of_work",
    "claim_tenant",
    "content_disposition",
    "database",
    "download_response",
    "error_response",
    "get_storeroom",
    "header_tenant",
    "health_report",
    "health_response",
    "health_router",
    "install_error_handlers",
    "open_storeroom",
    "policy",
    "repository",
    "status_for",
    "storage",
    "storeroom_lifespan",
    "subdomain_tenant",
    "upload_body",
    "upload_file",
    "upload_form",
]
