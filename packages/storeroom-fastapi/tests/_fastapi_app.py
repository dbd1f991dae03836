"""The application the storeroom-fastapi tests serve on a real uvicorn, and a view behind its back.

Documents with an attached file, per tenant (``X-Tenant-ID``), the file stored through the
``docs`` policy in the request's unit of work; plain routes for raw uploads and downloads; a
health route. ``Env`` checks rows and objects directly, with its own connections.
"""

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import sqlalchemy as sa

from fastapi import FastAPI, File, HTTPException, Request, UploadFile
from storeroom import StoragePolicy, StoredObjectRef, Storeroom
from storeroom_fastapi import (
    AsyncStorageDep,
    RoomDep,
    UnitOfWorkDep,
    async_repository,
    download_response,
    header_tenant,
    health_router,
    install_error_handlers,
    policy,
    storeroom_lifespan,
    upload_body,
    upload_file,
    upload_form,
)
from storeroom_fastapi.testing import serve
from storeroom_orm import AsyncRepository, Field, Model, StoredFile

MAX_SIZE = 1024 * 1024  # the docs policy's limit
TENANT = header_tenant("X-Tenant-ID")


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def define_models(metadata: sa.MetaData) -> tuple[type[Model], sa.Table]:
    """A document model and a table whose deferred foreign key fails at COMMIT, not before."""

    class Document(Model, table=unique("docs"), metadata=metadata):
        title: str = Field(max_length=200)
        file: StoredFile | None = Field(None, policy="docs")

    parents = sa.Table(unique("parents"), metadata, sa.Column("id", sa.Integer, primary_key=True))
    children = sa.Table(
        unique("children"),
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "parent_id",
            sa.Integer,
            sa.ForeignKey(parents.c.id, deferrable=True, initially="DEFERRED"),
            nullable=False,
        ),
    )
    return Document, children


def settings_for(
    tmp: Path, database: dict[str, Any] | None = None, files: dict[str, Any] | None = None
) -> dict[str, Any]:
    """SQLite and local files under ``tmp``, unless another database or storage is given."""
    return {
        "databases": {"main": database or {"backend": "sqlite", "url": f"sqlite:///{tmp}/app.db"}},
        "storages": {"files": files or {"backend": "local", "root": str(tmp / "objects")}},
        "policies": {
            "docs": {"storage": "files", "key_prefix": "docs/", "max_size": MAX_SIZE},
            "text": {"storage": "files", "key_prefix": "text/", "max_size": MAX_SIZE, "content_types": ["text/*"]},
            "big": {"storage": "files", "key_prefix": "big/"},
        },
    }


def build_app(settings: Mapping[str, Any], document: type[Model], children: sa.Table) -> FastAPI:
    app = FastAPI(lifespan=storeroom_lifespan(lambda: Storeroom.from_settings(settings, embedded_default=False)))
    install_error_handlers(app)
    app.include_router(health_router())

    Docs = Annotated[AsyncRepository[Any], async_repository(document, TENANT)]
    DocsPolicy = Annotated[StoragePolicy, policy("docs")]

    @app.post("/documents", status_code=201)
    async def create_document(
        request: Request,
        title: str,
        docs: Docs,
        uow: UnitOfWorkDep,
        pol: DocsPolicy,
        filename: str | None = None,
        fail: str | None = None,
    ) -> dict[str, Any]:
        ref = await upload_body(request, pol, uow=uow, filename=filename)
        doc = await docs.create(document(title=title, file=ref))
        if fail == "raise":
            raise RuntimeError("the endpoint failed after storing the file and the row")
        if fail == "http":
            raise HTTPException(409, "refused after storing the file and the row")
        if fail == "commit":  # a deferred foreign key: the COMMIT itself fails
            await uow.tx.execute(f"INSERT INTO {children.name} (id, parent_id) VALUES (1, 999)")
        return {"id": str(doc.id), "file": ref.model_dump()}

    @app.post("/documents/form", status_code=201)
    async def create_from_form(
        title: str, docs: Docs, uow: UnitOfWorkDep, pol: DocsPolicy, file: Annotated[UploadFile, File()]
    ) -> dict[str, Any]:
        ref = await upload_file(file, pol, uow=uow)
        doc = await docs.create(document(title=title, file=ref))
        return {"id": str(doc.id), "file": ref.model_dump()}

    @app.post("/documents/stream", status_code=201)
    async def create_streamed(request: Request, docs: Docs, uow: UnitOfWorkDep, pol: DocsPolicy) -> dict[str, Any]:
        form = await upload_form(request, pol, uow=uow)
        doc = await docs.create(document(title=form.fields.get("title", "untitled"), file=form.ref))
        if form.fields.get("fail"):
            raise HTTPException(409, "refused after storing the file and the row")
        return {"id": str(doc.id), "file": form.ref.model_dump(), "fields": form.fields}

    @app.post("/forms/{policy_name}")
    async def post_form(request: Request, policy_name: str, room: RoomDep) -> dict[str, Any]:
        form = await upload_form(request, room.policy(policy_name))
        return {"file": form.ref.model_dump(), "fields": form.fields}

    @app.get("/documents")
    async def list_documents(docs: Docs) -> list[dict[str, Any]]:
        return [{"id": str(d.id), "title": d.title} for d in await docs.list(order_by="created_at")]

    @app.api_route("/documents/{doc_id}/file", methods=["GET", "HEAD"])
    async def document_file(request: Request, doc_id: uuid.UUID, docs: Docs, room: RoomDep) -> Any:
        doc = await docs.get(doc_id)
        if doc is None or doc.file is None:
            raise HTTPException(404, "no such document")
        ref: StoredObjectRef = doc.file
        return await download_response(request, room.async_storage(ref.storage), ref.key, filename=ref.filename)

    @app.put("/raw/{policy_name}")
    async def put_raw(request: Request, policy_name: str, room: RoomDep, key: str | None = None) -> dict[str, Any]:
        ref = await upload_body(request, room.policy(policy_name), key=key)
        return ref.model_dump()

    @app.api_route("/objects/{key:path}", methods=["GET", "HEAD"])
    async def get_object(request: Request, key: str, files: AsyncStorageDep, presigned: bool = False) -> Any:
        return await download_response(request, files, key, presigned=presigned, chunk_size=64 * 1024)

    return app


@dataclass
class Env:
    """A served application and direct access to what it stored."""

    base_url: str
    settings: dict[str, Any]
    document: type[Model]
    room: Storeroom = field(init=False)

    def __post_init__(self) -> None:
        self.room = Storeroom.from_settings(self.settings, embedded_default=False)

    def client(self, tenant: str | None = "acme", **options: Any) -> httpx.Client:
        headers = {"X-Tenant-ID": tenant} if tenant else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30, **options)

    def object_keys(self, prefix: str = "") -> list[str]:
        return self.room.storage("files").list_keys(prefix)

    def row_count(self) -> int:
        table = self.document.__table__  # type: ignore[attr-defined]
        return int(self.room.database().fetch_value(f"SELECT COUNT(*) FROM {table.name}"))

    def temp_files(self) -> list[Path]:
        """Files under the storage root that are not objects or their metadata (partial writes)."""
        if self.settings["storages"]["files"]["backend"] != "local":
            return []
        root = Path(self.settings["storages"]["files"]["root"])
        objects = {root / k for k in self.object_keys()}
        return [p for p in root.rglob("*") if p.is_file() and p not in objects and ".storeroom" not in p.parts]


@contextmanager
def served(tmp: Path, settings: dict[str, Any] | None = None) -> Iterator[Env]:
    """The test application on uvicorn over ``settings`` (default: SQLite and local files in ``tmp``)."""
    metadata = sa.MetaData()
    document, children = define_models(metadata)
    settings = settings if settings is not None else settings_for(tmp)
    with Storeroom.from_settings(settings, embedded_default=False) as room:
        metadata.create_all(room.database().engine)
    try:
        with serve(build_app(settings, document, children)) as base_url:
            env = Env(base_url, settings, document)
            try:
                yield env
            finally:
                env.room.close()
    finally:
        with Storeroom.from_settings(settings, embedded_default=False) as room:
            metadata.drop_all(room.database().engine)
