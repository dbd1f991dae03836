"""A request's unit of work: kept when the endpoint returns, undone before the response otherwise."""

from __future__ import annotations

import pytest

from _fastapi_app import Env


def test_a_successful_request_keeps_the_row_and_the_object(env: Env) -> None:
    with env.client() as client:
        response = client.post("/documents", params={"title": "Q3", "filename": "q3.txt"}, content=b"report")
    assert response.status_code == 201, response.text
    key = response.json()["file"]["key"]
    assert env.row_count() == 1
    assert env.object_keys() == [key]
    assert env.room.storage("files").read(key) == b"report"


@pytest.mark.parametrize(("fail", "status"), [("raise", 500), ("http", 409), ("commit", 409)])
def test_a_failing_request_leaves_neither_row_nor_object(env: Env, fail: str, status: int) -> None:
    """Raising in the endpoint, an HTTPException, and a COMMIT that fails (a deferred foreign
    key) all undo the unit - and the client gets the error, never a 2xx for a unit that was undone."""
    with env.client() as client:
        response = client.post("/documents", params={"title": "doomed", "fail": fail}, content=b"x" * 100_000)
    assert response.status_code == status, response.text
    assert env.row_count() == 0
    assert env.object_keys() == []
    assert env.temp_files() == []


def test_the_commit_failure_is_answered_with_its_error_body(env: Env) -> None:
    with env.client() as client:
        response = client.post("/documents", params={"title": "t", "fail": "commit"}, content=b"data")
    assert response.json()["error"] == "IntegrityError"
    assert "INSERT" not in response.text  # the statement stays on the server


def test_the_server_keeps_serving_after_undone_units(env: Env) -> None:
    for _ in range(3):  # uvicorn closes the connection after an unhandled error: one client each
        with env.client() as client:
            assert client.post("/documents", params={"title": "x", "fail": "raise"}, content=b"1").status_code == 500
    with env.client() as client:
        ok = client.post("/documents", params={"title": "kept"}, content=b"2")
    assert ok.status_code == 201
    assert env.row_count() == 1
    assert len(env.object_keys()) == 1
