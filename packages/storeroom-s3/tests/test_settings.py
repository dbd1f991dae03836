"""Settings validation, client arguments and secrets kept out of reprs."""

from __future__ import annotations

from typing import Any

import pytest

from storeroom.config.models import validate_model
from storeroom.errors import ConfigurationError
from storeroom.redaction import redact
from storeroom_s3 import AsyncS3Storage, S3Storage, S3StorageSettings
from storeroom_s3._client import client_kwargs, config_kwargs

SECRET = "unit-test-secret-4b9f0e2a"
TOKEN = "unit-test-session-token-77c1"


def settings(**raw: Any) -> S3StorageSettings:
    return validate_model(S3StorageSettings, {"backend": "s3", "bucket": "my-bucket", **raw}, "storages.files")


def test_defaults() -> None:
    s = settings()
    assert (s.prefix, s.region, s.endpoint_url, s.addressing_style) == ("", None, None, "auto")
    assert (s.request_checksum_calculation, s.response_checksum_validation) == ("when_required", "when_required")
    assert s.part_size == 8 * 1024 * 1024 and s.max_concurrency == 4 and not s.create_bucket
    assert s.access_key_id is None  # the default AWS credential chain


def test_sizes_accept_units() -> None:
    assert settings(part_size="16 MiB", multipart_copy_threshold="1GiB").part_size == 16 * 1024 * 1024


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"bucket": "Bad_Bucket"}, "bucket"),
        ({"bucket": "ab"}, "bucket"),
        ({"bucket": "192.168.1.1"}, "bucket"),
        ({"prefix": "a/../b"}, "prefix"),
        ({"endpoint_url": "ftp://x"}, "endpoint_url"),
        ({"addressing_style": "sideways"}, "addressing_style"),
        ({"request_checksum_calculation": "always"}, "request_checksum_calculation"),
        ({"part_size": "4 MiB"}, "part_size"),
        ({"part_size": "6 GiB"}, "part_size"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"list_page_size": 1001}, "list_page_size"),
        ({"connect_timeout": 0}, "connect_timeout"),
        ({"secret": "x"}, "secret"),
    ],
)
def test_bad_values_name_the_key(raw: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"storages\.files\.{key}"):
        settings(**raw)


def test_missing_bucket_is_named() -> None:
    with pytest.raises(ConfigurationError, match="bucket"):
        validate_model(S3StorageSettings, {"backend": "s3"}, "storages.files")


@pytest.mark.parametrize(
    "raw",
    [{"access_key_id": "AKIA1"}, {"secret_access_key": SECRET}, {"session_token": TOKEN}],
)
def test_partial_credentials_rejected(raw: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="access_key_id") as excinfo:
        settings(**raw)
    assert SECRET not in str(excinfo.value) and TOKEN not in str(excinfo.value)


def test_secrets_never_in_repr_or_messages() -> None:
    s = settings(access_key_id="AKIAUNITTEST1", secret_access_key=SECRET, session_token=TOKEN)
    assert SECRET not in repr(s) and TOKEN not in repr(s)
    store = S3Storage(settings=s, name="files")
    astore = AsyncS3Storage(settings=s)
    for text in (repr(store), repr(astore), str(store.settings.model_dump())):
        assert SECRET not in text and TOKEN not in text
    # registered: a message that happens to contain them is masked
    assert SECRET not in redact(f"boom {SECRET} and {TOKEN}")


def test_constructor_options_are_validated_like_config() -> None:
    with pytest.raises(ConfigurationError, match=r"storages\.files\.part_sise"):
        S3Storage("my-bucket", name="files", part_sise=1)
    with pytest.raises(TypeError):
        S3Storage("my-bucket", settings=settings())


def test_client_arguments() -> None:
    s = settings(
        region="eu-west-1",
        endpoint_url="http://127.0.0.1:9000/",
        access_key_id="AKIAUNITTEST1",
        secret_access_key=SECRET,
        addressing_style="path",
        max_attempts=2,
        max_concurrency=16,
    )
    kwargs = client_kwargs(s)
    assert kwargs["endpoint_url"] == "http://127.0.0.1:9000"
    assert kwargs["aws_secret_access_key"] == SECRET and "aws_session_token" not in kwargs
    config = config_kwargs(s)
    assert config["s3"] == {"addressing_style": "path"}
    assert config["retries"] == {"total_max_attempts": 2, "mode": "standard"}
    assert config["max_pool_connections"] >= 16
    assert config["request_checksum_calculation"] == "when_required"
    from botocore.config import Config

    Config(**config)  # botocore accepts every key


def test_default_chain_passes_no_credentials() -> None:
    assert set(client_kwargs(settings())) == {"region_name", "endpoint_url"}


def test_repr_shows_where_not_who() -> None:
    store = S3Storage("my-bucket", name="files", prefix="p", endpoint_url="http://minio:9000")
    assert repr(store) == "<S3Storage 'files' bucket='my-bucket' prefix='p' endpoint='http://minio:9000'>"
