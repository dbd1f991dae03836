"""The lifespan over a real uvicorn: the room is built at startup and closed at shutdown."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from fastapi import FastAPI, Request
from storeroom import Storeroom
from storeroom.errors import StoreroomError
from storeroom_fastapi import AsyncStorageDep, RoomDep, open_storeroom, storeroom_lifespan
from storeroom_fastapi.testing import serve


def _settings(tmp_path: Path) -> dict[str, Any]:
    return {
        "databases": {"main": {"backend": "sqlite", "url": f"sqlite:///{tmp_path}/l.db"}},
        "storages": {"files": {"backend": "local", "root": str(tmp_path / "objects")}},
    }


def test_the_room_is_built_at_startup_and_closed_at_shutdown(tmp_path: Path) -> None:
    built: list[Storeroom] = []

    def build() -> Storeroom:
        built.append(Storeroom.from_settings(_settings(tmp_path), embedded_default=False))
        return built[-1]

    app = FastAPI(lifespan=storeroom_lifespan(build))

    @app.get("/value")
    async def value(room: RoomDep, files: AsyncStorageDep) -> dict[str, Any]:
        await files.write("hello.txt", b"hi")
        return {"value": await room.async_database().fetch_value("SELECT 40 + 2"), "same": room is app.state.storeroom}

    with serve(app) as base:
        assert len(built) == 1  # before the first request
        with httpx.Client(base_url=base) as client:
            assert client.get("/value").json() == {"value": 42, "same": True}
            assert client.get("/value").status_code == 200
    assert len(built) == 1
    with pytest.raises(StoreroomError, match="closed"):
        built[0].database()
    assert not hasattr(app.state, "storeroom")


def test_it_composes_with_the_applications_own_lifespan(tmp_path: Path) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        events.append("app starts")
        async with open_storeroom(app, lambda: Storeroom.from_settings(_settings(tmp_path), embedded_default=False)):
            events.append("room open")
            yield {"greeting": "hello"}
            events.append("room closing")
        events.append("app stopped")

    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    async def root(request: Request, room: RoomDep) -> dict[str, Any]:
        return {"greeting": request.state.greeting, "value": await room.async_database().fetch_value("SELECT 1")}

    with serve(app) as base, httpx.Client(base_url=base) as client:
        assert client.get("/").json() == {"greeting": "hello", "value": 1}
    assert events == ["app starts", "room open", "room closing", "app stopped"]


def test_settings_files_are_loaded_at_startup(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(
        f'[default.databases.main]\nbackend = "sqlite"\nurl = "sqlite:///{tmp_path}/f.db"\n'
        f'[default.storages.files]\nbackend = "local"\nroot = "{tmp_path}/objects"\n'
    )
    app = FastAPI(lifespan=storeroom_lifespan(settings_files=[config]))

    @app.get("/")
    async def root(room: RoomDep) -> list[str]:
        return room.storage_names + room.database_names

    with serve(app) as base, httpx.Client(base_url=base) as client:
        assert client.get("/").json() == ["files", "main"]


def test_a_bad_configuration_stops_the_application_from_starting(tmp_path: Path) -> None:
    settings = {"storages": {"files": {"backend": "local", "rot": str(tmp_path)}}}  # misspelled key
    app = FastAPI(lifespan=storeroom_lifespan(lambda: Storeroom.from_settings(settings)))
    with pytest.raises(RuntimeError, match="did not start"), serve(app):
        pass


def test_a_room_and_settings_files_are_exclusive(tmp_path: Path) -> None:
    room = Storeroom.from_settings(_settings(tmp_path), embedded_default=False)

    async def enter() -> None:
        async with open_storeroom(FastAPI(), room, settings_files=["x.toml"]):
            pass

    with pytest.raises(TypeError):
        asyncio.run(enter())
    room.close()


def test_without_the_lifespan_the_dependency_says_what_is_missing(tmp_path: Path) -> None:
    app = FastAPI()

    @app.get("/")
    async def root(room: RoomDep) -> None: ...

    with serve(app) as base, httpx.Client(base_url=base) as client:
        assert client.get("/").status_code == 500
