"""Documents with an attached file, per tenant, on the embedded default (SQLite + local files).

Run from the repository root:  hatch run fastapi-demo     (uvicorn on http://127.0.0.1:8000)

    curl -X POST 'localhost:8000/documents?title=Plan&filename=plan.txt' \\
         -H 'X-Tenant-ID: acme' -H 'Content-Type: text/plain' --data-binary @README.md
    curl -F title=Scan -F file=@scan.pdf -H 'X-Tenant-ID: acme' localhost:8000/documents/form
    curl -H 'X-Tenant-ID: acme' localhost:8000/documents
    curl -H 'X-Tenant-ID: acme' -H 'Range: bytes=0-99' localhost:8000/documents/<id>/file
    curl localhost:8000/health

Each write runs in one unit of work: the file is stored through the ``documents`` policy and its
``StoredObjectRef`` kept in the document's ``file`` column in the same unit, so the row and the
object are kept or undone together - an error after the upload leaves neither behind.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi.responses import Response
from pydantic import BaseModel

from fastapi import FastAPI, HTTPException, Request
from storeroom import StoragePolicy, StoredObjectRef
from storeroom_fastapi import (
    RoomDep,
    UnitOfWorkDep,
    async_repository,
    download_response,
    header_tenant,
    health_router,
    install_error_handlers,
    open_storeroom,
    policy,
    upload_body,
    upload_form,
)
from storeroom_orm import AsyncRepository, Field, Model, StoredFile

SETTINGS = Path(__file__).with_name("settings.toml")


class Document(Model, table="example_documents"):
    title: str = Field(max_length=200)
    file: StoredFile | None = Field(None, policy="documents")


class DocumentOut(BaseModel):
    id: uuid.UUID
    title: str
    created_at: datetime | None
    file: StoredObjectRef | None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with open_storeroom(app, settings_files=[SETTINGS]) as room:
        Document.__table__.create(room.database().engine, checkfirst=True)  # or storeroom's schema sync
        yield


app = FastAPI(title="storeroom documents", lifespan=lifespan)
install_error_handlers(app)  # 404, 409, 413, 415, 403, 503 ... as JSON
app.include_router(health_router())  # GET /health: 200, or 503 for Kubernetes

Tenant = header_tenant("X-Tenant-ID")
Documents = Annotated[AsyncRepository[Document], async_repository(Document, Tenant)]
DocumentsPolicy = Annotated[StoragePolicy, policy("documents")]


async def _get(docs: AsyncRepository[Document], doc_id: uuid.UUID) -> Document:
    doc = await docs.get(doc_id)
    if doc is None:  # missing, or another tenant's: the same answer
        raise HTTPException(404, "no such document")
    return doc


def _out(doc: Document) -> DocumentOut:
    return DocumentOut(id=doc.id, title=doc.title, created_at=doc.created_at, file=doc.file)


@app.post("/documents", status_code=201)
async def create_document(
    request: Request,
    title: str,
    docs: Documents,
    uow: UnitOfWorkDep,
    files: DocumentsPolicy,
    filename: str | None = None,
) -> DocumentOut:
    """The request body is the file, streamed to the storage as it arrives (``Content-Type`` says its type)."""
    ref = await upload_body(request, files, uow=uow, filename=filename)
    return _out(await docs.create(Document(title=title, file=ref)))


@app.post("/documents/form", status_code=201)
async def create_from_form(
    request: Request, docs: Documents, uow: UnitOfWorkDep, files: DocumentsPolicy
) -> DocumentOut:
    """A browser form (``title`` and ``file``), its file part streamed without a temporary copy."""
    form = await upload_form(request, files, uow=uow)
    return _out(await docs.create(Document(title=form.fields.get("title") or "untitled", file=form.ref)))


@app.get("/documents")
async def list_documents(docs: Documents, limit: int = 50) -> list[DocumentOut]:
    return [_out(d) for d in await docs.list(order_by="-created_at", limit=min(limit, 500))]


@app.get("/documents/{doc_id}")
async def get_document(doc_id: uuid.UUID, docs: Documents) -> DocumentOut:
    return _out(await _get(docs, doc_id))


@app.api_route("/documents/{doc_id}/file", methods=["GET", "HEAD"])
async def document_file(request: Request, doc_id: uuid.UUID, docs: Documents, room: RoomDep) -> Response:
    """The file, streamed, with ``ETag``/``If-None-Match`` (304) and ``Range`` (206)."""
    doc = await _get(docs, doc_id)
    if doc.file is None:
        raise HTTPException(404, "this document has no file")
    return await download_response(
        request, room.async_storage(doc.file.storage), doc.file.key, filename=doc.file.filename
    )


@app.put("/documents/{doc_id}/file")
async def replace_file(
    request: Request,
    doc_id: uuid.UUID,
    docs: Documents,
    uow: UnitOfWorkDep,
    files: DocumentsPolicy,
    filename: str | None = None,
) -> DocumentOut:
    """A new file for the document; the old one is deleted only once the unit has committed."""
    doc = await _get(docs, doc_id)
    ref = await upload_body(request, files, uow=uow, filename=filename)
    updated = await docs.update(doc.id, file=ref)
    if doc.file is not None:
        await uow.delete(doc.file.storage, doc.file.key)
    assert updated is not None
    return _out(updated)


@app.delete("/documents/{doc_id}", status_code=204)
async def delete_document(doc_id: uuid.UUID, docs: Documents, uow: UnitOfWorkDep) -> Response:
    doc = await _get(docs, doc_id)
    await docs.delete(doc.id)
    if doc.file is not None:
        await uow.delete(doc.file.storage, doc.file.key)  # deferred until the row's delete commits
    return Response(status_code=204)
