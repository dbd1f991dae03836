"""No SAS signature or account key in anything the Azure backend produces.

A SAS token rides in every request URL, and urllib3 quotes that URL when it cannot connect
(``Max retries exceeded with url: /c/k?...&sig=...``): azure-core wraps that error in
``ServiceRequestError``, which storeroom chains. A real SAS from Azurite's account is used.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

import pytest

from _secrets import assert_hidden, error_of
from _services import free_port
from storeroom.errors import StorageError
from storeroom_azure import AsyncAzureBlobStorage, AzureBlobStorage

from .conftest import ACCOUNT, ACCOUNT_KEY, container_sas  # type: ignore[import-not-found]


def signatures(sas: str) -> tuple[str, str]:
    """The SAS signature as written in the token (percent-encoded) and decoded."""
    raw = next(p for p in sas.split("&") if p.startswith("sig="))[len("sig=") :]
    return raw, parse_qs(sas)["sig"][0]


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_sas_signature_never_in_the_chained_error(flavour: str) -> None:
    sas = container_sas("nothing")
    options: dict[str, Any] = {
        "account_url": f"http://127.0.0.1:{free_port()}/{ACCOUNT}",  # nobody listens: the SDK cannot connect
        "sas_token": sas,
        "retries": 0,
        "connect_timeout": 2,
    }
    store = AzureBlobStorage if flavour == "sync" else AsyncAzureBlobStorage
    error = error_of(flavour, lambda: store("nothing", **options), lambda st: st.write("k", b"v"))
    assert isinstance(error, StorageError)
    assert "could not reach" in str(error) and error.__cause__ is not None
    assert_hidden(error, *signatures(sas), sas)


def test_account_key_never_in_the_chained_error() -> None:
    with (
        AzureBlobStorage(
            "nothing",
            account_url=f"http://127.0.0.1:{free_port()}/{ACCOUNT}",
            account_key=ACCOUNT_KEY,
            retries=0,
            connect_timeout=2,
        ) as st,
        pytest.raises(StorageError) as info,
    ):
        st.read("k")
    assert_hidden(info.value, ACCOUNT_KEY)


def test_no_secret_from_any_logger_at_debug(azurite: Any, container: str, caplog: pytest.LogCaptureFixture) -> None:
    sas = container_sas(container)
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records
    with AzureBlobStorage(container, account_url=azurite.url, sas_token=sas) as st:
        st.write("logged/a", b"x")
        st.read("logged/a")
        st.copy("logged/a", "logged/b")
        st.list_keys("logged/")
        with pytest.raises(StorageError):
            st.read("logged/missing")
        st.delete_many(["logged/a", "logged/b"])
    assert caplog.records
    for secret in (*signatures(sas), sas):
        leaks = sorted({r.name for r in caplog.records if secret in r.getMessage() or secret in (r.exc_text or "")})
        assert not leaks, f"the SAS logged by {leaks}"
