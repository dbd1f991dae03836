"""Registration under the ``s3`` name, and a light import."""

from __future__ import annotations

import subprocess
import sys

from storeroom.plugins import PluginManager
from storeroom_s3 import AsyncS3Storage, S3Storage


def test_registered_under_s3() -> None:
    pm = PluginManager()
    assert pm.storages.get("s3") is S3Storage
    assert pm.storages.get_async("s3") is AsyncS3Storage
    assert any(p.name == "s3" and not p.error for p in pm.plugins)


def test_plugin_module_imports_no_sdk() -> None:
    code = "import sys, storeroom_s3.plugin; print('boto3' in sys.modules, 'aiobotocore' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_sync_store_does_not_import_aiobotocore() -> None:
    code = "import sys, storeroom_s3; storeroom_s3.S3Storage('b-1-2'); print('aiobotocore' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
