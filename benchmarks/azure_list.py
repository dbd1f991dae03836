"""Azure listing: storeroom's UTF-8-ordered ``list`` against the SDK's own ``list_blobs``.

Azure pages in UTF-16 order; storeroom walks the listing and holds back the keys whose order
differs in UTF-8 (an astral character where another key has one in U+E000-U+FFFF), listing a
large block of them again on its own. This measures what that costs on keys without such
characters (the common case: the walk only looks) and on keys full of them, against the SDK
iterating the same listing, in the same run, on Azurite::

    hatch run bench:python benchmarks/azure_list.py --keys 3000 --rounds 5
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor

from _azurite import azurite_url, connection_string
from _common import report, rotate, timed


def _keys(count: int, mixed: bool) -> list[str]:
    """``count`` keys in folders of 50; ``mixed``: each folder mixes emoji and private-use names."""
    keys = []
    for i in range(count):
        name = f"{i % 50:02d}.txt"
        if mixed:
            name = ("\U0001f600" if i % 2 else "\ue000") + name
        keys.append(f"{'mixed' if mixed else 'plain'}/user-{i // 50:05d}/{name}")
    return keys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=3000, help="blobs per listing")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--page", type=int, default=1000, help="list_page_size / results_per_page")
    args = parser.parse_args()

    from azure.storage.blob import BlobServiceClient

    from storeroom_azure import AzureBlobStorage

    with contextlib.ExitStack() as stack:
        connection = connection_string(azurite_url(stack))
        service = stack.enter_context(BlobServiceClient.from_connection_string(connection))
        container = f"bench-{uuid.uuid4().hex[:12]}"
        client = service.create_container(container)
        stack.callback(service.delete_container, container)
        for mixed in (False, True):
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda key: client.upload_blob(key, b"x"), _keys(args.keys, mixed)))
        store = stack.enter_context(AzureBlobStorage(container, connection_string=connection, list_page_size=args.page))

        for mixed in (False, True):
            prefix = "mixed/" if mixed else "plain/"
            expected = sorted(_keys(args.keys, mixed), key=lambda k: k.encode("utf-8"))
            assert store.list_keys(prefix) == expected

            def sdk(prefix: str = prefix) -> None:
                names = [
                    b.name
                    for b in client.list_blobs(
                        name_starts_with=prefix, include=["metadata"], results_per_page=args.page
                    )
                ]
                assert len(names) == args.keys

            def storeroom(prefix: str = prefix) -> None:
                assert len(store.list_keys(prefix)) == args.keys

            samples: dict[str, list[float]] = {"SDK list_blobs": [], "storeroom list (UTF-8 order)": []}
            runs = {"SDK list_blobs": sdk, "storeroom list (UTF-8 order)": storeroom}
            for r in range(args.rounds):
                for name in rotate(list(runs), r):
                    samples[name].append(timed(runs[name]))
            what = "keys mixing emoji and U+E000 at every folder" if mixed else "plain keys"
            report(f"azure list: {args.keys} blobs, {what}, pages of {args.page}", samples, "SDK list_blobs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
