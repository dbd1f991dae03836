"""Settings validation: one auth mode, named keys, normalised prefix, secrets never shown."""

from __future__ import annotations

from typing import Any

import pytest

from storeroom.config.models import validate_model
from storeroom.errors import ConfigurationError
from storeroom.redaction import redact, redact_mapping
from storeroom_azure import AsyncAzureBlobStorage, AzureBlobStorage, AzureBlobStorageSettings
from storeroom_azure._clients import IDENTITY_HINT, account_name_from_url

KEY = "c2VjcmV0LWtleS1mb3ItdW5pdC10ZXN0cy1vbmx5LW5vdC1yZWFs"
SAS = "sv=2024-01-01&ss=b&srt=sco&sp=rl&se=2030-01-01&sig=U2lnbmF0dXJlRm9yVGVzdHM%3D"
URL = "https://acct.blob.core.windows.net"
CONN = f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={KEY};EndpointSuffix=core.windows.net"


def _settings(**raw: Any) -> AzureBlobStorageSettings:
    return validate_model(AzureBlobStorageSettings, {"backend": "azure", "container": "files", **raw}, "storages.x")


@pytest.mark.parametrize(
    "raw",
    [
        {"connection_string": CONN},
        {"account_url": URL, "account_key": KEY},
        {"account_url": URL, "sas_token": SAS},
        {"account_url": URL, "sas_token": "?" + SAS},
        {"account_url": URL, "credential": "default"},
    ],
)
def test_each_auth_mode_alone_is_accepted(raw: dict[str, Any]) -> None:
    settings = _settings(**raw)
    assert settings.block_size == 8 * 1024 * 1024
    assert settings.create_container is False


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({}, "connection_string"),
        ({"account_url": URL}, "account_key"),
        ({"account_url": URL, "account_key": KEY, "sas_token": SAS}, "sas_token"),
        ({"account_url": URL, "account_key": KEY, "credential": "default"}, "credential"),
        ({"connection_string": CONN, "account_url": URL}, "account_url"),
        ({"connection_string": CONN, "account_key": KEY}, "account_key"),
        ({"account_key": KEY}, "account_url"),
    ],
)
def test_not_exactly_one_auth_mode(raw: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named) as excinfo:
        _settings(**raw)
    assert KEY not in str(excinfo.value)
    assert "U2lnbmF0dXJl" not in str(excinfo.value)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"container": "Bad_Name"}, "container"),
        ({"container": "ab"}, "container"),
        ({"container": "a--b"}, "container"),
        ({"prefix": "../up"}, "prefix"),
        ({"prefix": "/abs"}, "prefix"),
        ({"block_size": 10}, "block_size"),
        ({"block_size": "5 GiB"}, "block_size"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"retries": -1}, "retries"),
        ({"account_url": "ftp://x"}, "account_url"),
        ({"credential": "managed"}, "credential"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_values_name_the_key(raw: dict[str, Any], key: str) -> None:
    base: dict[str, Any] = {"account_url": URL, "account_key": KEY}
    with pytest.raises(ConfigurationError) as excinfo:
        _settings(**{**base, **raw})
    assert excinfo.value.key == f"storages.x.{key}" or key in str(excinfo.value)
    assert KEY not in str(excinfo.value)


def test_sas_in_account_url_is_refused_and_hidden() -> None:
    with pytest.raises(ConfigurationError, match="sas_token") as excinfo:
        _settings(account_url=f"{URL}?{SAS}")
    assert "U2lnbmF0dXJl" not in str(excinfo.value)


@pytest.mark.parametrize(("prefix", "stored"), [("", ""), ("docs", "docs/"), ("docs/", "docs/"), ("a/b", "a/b/")])
def test_prefix_is_a_folder(prefix: str, stored: str) -> None:
    assert _settings(account_url=URL, account_key=KEY, prefix=prefix).prefix == stored


def test_sizes_accept_units() -> None:
    assert _settings(account_url=URL, account_key=KEY, block_size="4 MiB").block_size == 4 * 1024 * 1024


def test_secrets_are_masked_in_reprs_and_registered() -> None:
    for raw in (
        {"connection_string": CONN},
        {"account_url": URL, "account_key": KEY},
        {"account_url": URL, "sas_token": SAS},
    ):
        settings = _settings(**raw)
        shown = repr(settings) + str(settings) + str(settings.model_dump())
        assert KEY not in shown and SAS not in shown and CONN not in shown
    assert redact(f"oops {KEY} and {SAS}") == "oops *** and ***"
    masked = redact_mapping({"storages": {"x": {"account_key": KEY, "connection_string": CONN, "sas_token": SAS}}})
    assert KEY not in str(masked) and "U2lnbmF0dXJl" not in str(masked)


@pytest.mark.parametrize("cls", [AzureBlobStorage, AsyncAzureBlobStorage])
def test_store_repr_hides_secrets(cls: type[Any]) -> None:
    store = cls("files", connection_string=CONN, prefix="docs", name="blobs")
    shown = repr(store)
    assert "container='files'" in shown and "prefix='docs/'" in shown and "acct.blob.core.windows.net" in shown
    assert KEY not in shown
    assert store.supports_presigned_urls
    sas_store = cls("files", account_url=URL, sas_token=SAS)
    assert SAS not in repr(sas_store) and "sig=" not in repr(sas_store)
    assert not sas_store.supports_presigned_urls


def test_constructor_errors_name_the_key() -> None:
    with pytest.raises(ConfigurationError, match="block_size"):
        AzureBlobStorage("files", connection_string=CONN, block_size=1)
    with pytest.raises(ConfigurationError, match="connection_string"):
        AzureBlobStorage("files")


def test_malformed_connection_string_is_a_configuration_error() -> None:
    bad = f"AccountKey={KEY};no endpoint here"
    with pytest.raises(ConfigurationError) as excinfo:
        AzureBlobStorage("files", connection_string=bad)
    assert KEY not in str(excinfo.value)
    assert excinfo.value.__cause__ is None and excinfo.value.__suppress_context__


def test_default_credential_needs_azure_identity() -> None:
    try:
        import azure.identity  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigurationError, match=r"storeroom-azure\[identity\]") as excinfo:
            AzureBlobStorage("files", account_url=URL, credential="default")
        assert excinfo.value.message == IDENTITY_HINT
    else:
        store = AzureBlobStorage("files", account_url=URL, credential="default")
        assert not store.supports_presigned_urls


def test_token_credential_object_is_used_as_is() -> None:
    class FakeToken:  # any azure-core TokenCredential; never called here (no I/O)
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            raise AssertionError("not called")

    store = AzureBlobStorage("files", account_url=URL, credential=FakeToken())
    assert store.settings.credential == "default"
    assert not store.supports_presigned_urls


@pytest.mark.parametrize(
    ("url", "account"),
    [
        ("https://acct.blob.core.windows.net", "acct"),
        ("http://127.0.0.1:10000/devstoreaccount1", "devstoreaccount1"),
        ("http://localhost:10000/devstoreaccount1", "devstoreaccount1"),
    ],
)
def test_account_name_from_url(url: str, account: str) -> None:
    assert account_name_from_url(url) == account
