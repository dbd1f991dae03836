"""The conditional-write probe's steps and verdicts, driven with made-up replies (no server)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from storeroom.config.models import validate_model
from storeroom.errors import ConfigurationError
from storeroom_s3 import S3StorageSettings
from storeroom_s3._probe import PROBE_PREFIX, Reply, conditional_write_probe, probe_key


def refusal(code: str, status: int) -> Reply:
    return Reply(error=ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op"))


def drive(replies: dict[str, list[Reply]]) -> tuple[list[str], str | None]:
    """Run the probe, answering each operation from ``replies`` (default: a plain success)."""
    calls: list[str] = []
    steps = conditional_write_probe("bucket", "p/.storeroom/probes/x")
    try:
        call = next(steps)
        while True:
            calls.append(call.operation)
            queue = replies.get(call.operation, [])
            reply = queue.pop(0) if queue else Reply({"UploadId": "u1", "ETag": '"e"'})
            call = steps.send(reply)
    except StopIteration as done:
        return calls, done.value


def test_a_server_that_refuses_both_is_safe() -> None:
    precondition = refusal("PreconditionFailed", 412)
    calls, verdict = drive({"put_object": [Reply({}), precondition], "complete_multipart_upload": [precondition]})
    assert verdict is None
    assert calls == [
        "put_object",
        "put_object",
        "create_multipart_upload",
        "upload_part",
        "complete_multipart_upload",
        "abort_multipart_upload",
        "delete_object",
    ]


def test_a_put_that_overwrites_settles_it_at_once() -> None:
    calls, verdict = drive({})
    assert verdict is not None and "PutObject" in verdict and "overwrote" in verdict
    assert calls == ["put_object", "put_object", "delete_object"]


def test_a_complete_that_overwrites() -> None:
    calls, verdict = drive({"put_object": [Reply({}), refusal("PreconditionFailed", 412)]})
    assert verdict is not None and "CompleteMultipartUpload" in verdict
    assert calls[-1] == "delete_object" and "abort_multipart_upload" not in calls


def test_a_conflict_also_shows_the_condition_is_evaluated() -> None:
    conflict = refusal("ConditionalRequestConflict", 409)
    _, verdict = drive({"put_object": [Reply({}), conflict], "complete_multipart_upload": [conflict]})
    assert verdict is None


def test_not_implemented_is_not_safe() -> None:
    _, verdict = drive({"put_object": [Reply({}), refusal("NotImplemented", 501)]})
    assert verdict is not None and "does not implement" in verdict


def test_other_refusals_are_errors_not_verdicts() -> None:
    with pytest.raises(ClientError):
        drive({"put_object": [Reply({}), refusal("AccessDenied", 403)]})
    with pytest.raises(ClientError):
        drive({"put_object": [refusal("AccessDenied", 403)]})


def test_failed_clean_up_keeps_the_verdict(caplog: pytest.LogCaptureFixture) -> None:
    _, verdict = drive({"delete_object": [refusal("AccessDenied", 403)]})
    assert verdict is not None
    assert "could not remove the conditional-write probe" in caplog.text


def test_probe_keys_are_reserved_and_unique() -> None:
    keys = {probe_key() for _ in range(100)}
    assert len(keys) == 100 and all(k.startswith(PROBE_PREFIX) and k.startswith(".storeroom/") for k in keys)


@pytest.mark.parametrize(("raw", "value"), [(None, "auto"), ("auto", "auto"), (True, True), ("false", False)])
def test_conditional_writes_setting(raw: Any, value: Any) -> None:
    extra = {} if raw is None else {"conditional_writes": raw}
    settings = validate_model(S3StorageSettings, {"backend": "s3", "bucket": "b-1", **extra}, "storages.files")
    assert settings.conditional_writes == value


def test_conditional_writes_rejects_other_values() -> None:
    with pytest.raises(ConfigurationError, match="conditional_writes"):
        validate_model(S3StorageSettings, {"backend": "s3", "bucket": "b-1", "conditional_writes": "maybe"}, "s.f")
