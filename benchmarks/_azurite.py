"""Azurite for the Azure benchmarks: its well-known account, and a server to talk to.

``STOREROOM_TEST_AZURITE_URL`` points at a running one; otherwise the tests' own starter
brings one up from npm (``tests-integration/_services.py``) for the ``stack``'s lifetime.
"""

from __future__ import annotations

import contextlib
import os
import sys

__all__ = ["ACCOUNT", "ACCOUNT_KEY", "azurite_url", "connection_string"]

#: Azurite's well-known development account (public, documented by Microsoft)
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def connection_string(url: str) -> str:
    return f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};BlobEndpoint={url};"


def azurite_url(stack: contextlib.ExitStack) -> str:
    url = os.environ.get("STOREROOM_TEST_AZURITE_URL", "").strip()
    if url:
        return url.rstrip("/")
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests-integration"))
    from _services import AZURITE_STARTER

    return AZURITE_STARTER.start(stack).rstrip("/")
