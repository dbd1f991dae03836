"""storeroom in two minutes: SQLite + local files, no server.

Run from the repository root:  hatch run demo   (or: python examples/quickstart.py)
It uses config/settings.toml when present (the embedded default otherwise) and
keeps everything under ./var/.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

import storeroom
from storeroom import StoragePolicy
from storeroom.errors import ContentTooLargeError, ContentTypeNotAllowedError, IntegrityError
from storeroom.sizes import format_size

console = Console(highlight=False)
REPO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "settings.toml"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16  # 4 KiB of "image"


def step(title: str) -> None:
    console.print(f"\n[bold cyan]==> {title}[/]")


def avatars_policy(room: storeroom.Storeroom) -> StoragePolicy:
    if "avatars" in room.policy_names:
        return room.policy("avatars")
    # No config file: the embedded default has no policies, so declare the same one in code.
    return StoragePolicy("avatars", room.storage(), "avatars/", 2 * 1024 * 1024, ["image/png", "image/jpeg"])


def orm_demo(room: storeroom.Storeroom) -> None:
    """Models as tables, and a repository that keeps each tenant to its own rows."""
    step("ORM: pydantic models, repositories, one tenant at a time")
    try:
        import sqlalchemy as sa

        from storeroom_orm import F, Field, Model, Repository, actor, tenant
    except ImportError:
        console.print('skipped: pip install "storeroom[orm]"')
        return
    from decimal import Decimal

    metadata = sa.MetaData()  # demo tables of their own; apps use storeroom_orm.metadata

    class Invoice(Model, table="quickstart_invoices", metadata=metadata):
        number: str = Field(max_length=20, unique=True)
        total: Decimal = Field(Decimal("0"), max_digits=12, decimal_places=2)
        paid: bool = False

    db = room.database()
    metadata.drop_all(db.engine)
    metadata.create_all(db.engine)
    invoices = Repository(Invoice, db)
    with actor("ada"):
        with tenant("acme"):
            invoices.bulk_create(Invoice(number=f"A-{i}", total=Decimal(i) * 10) for i in range(1, 4))
            first = invoices.list(order_by="number", limit=1)[0]
            invoices.update(first.id, paid=True)
        with tenant("globex"):
            invoices.create(Invoice(number="A-1", total=Decimal("99.90")))  # numbers are unique per tenant
            console.print(f"globex sees {invoices.count()} invoice; acme's stay out of reach")
        with tenant("acme"):
            table = Table("number", "total", "paid", "updated by", title="acme's unpaid and paid invoices")
            for invoice in invoices.list(F.total >= 10, order_by="-total"):
                table.add_row(invoice.number, str(invoice.total), str(invoice.paid), invoice.updated_by or "")
            console.print(table)
    metadata.drop_all(db.engine)


def main() -> int:
    files = [REPO_CONFIG] if REPO_CONFIG.exists() else None
    with storeroom.from_config(files) as room:
        db = room.database()
        store = room.storage()
        console.print(f"[bold]storeroom {storeroom.__version__}[/] - database {db!r}, storage {store!r}")

        step("Create a table")
        db.execute("DROP TABLE IF EXISTS quickstart_users")
        db.execute(
            "CREATE TABLE quickstart_users (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL UNIQUE, "
            "name VARCHAR(100) NOT NULL, avatar VARCHAR(1024))"
        )
        console.print("quickstart_users is ready")

        step("Write rows in a transaction, with a savepoint that rolls back")
        with db.transaction() as tx:
            tx.execute_many(
                "INSERT INTO quickstart_users (id, email, name) VALUES (:id, :email, :name)",
                [
                    {"id": 1, "email": "ada@example.com", "name": "Ada"},
                    {"id": 2, "email": "grace@example.com", "name": "Grace"},
                ],
            )
            try:
                with tx.savepoint() as sp:
                    sp.execute(
                        "INSERT INTO quickstart_users (id, email, name) VALUES (3, 'linus@example.com', 'Linus')"
                    )
                    sp.execute("INSERT INTO quickstart_users (id, email, name) VALUES (4, 'ada@example.com', 'Ada 2')")
            except IntegrityError as exc:
                console.print(f"savepoint rolled back: [yellow]{type(exc).__name__}[/] (duplicate e-mail)")
            # Calls on `db` inside the block join the open transaction:
            console.print(
                f"inside the transaction, db sees {db.fetch_value('SELECT COUNT(*) FROM quickstart_users')} rows"
            )
        rows = db.fetch_all("SELECT id, email, name FROM quickstart_users ORDER BY id")
        table = Table("id", "email", "name", title="committed rows")
        for row in rows:
            table.add_row(str(row["id"]), row["email"], row["name"])
        console.print(table)

        step("Store objects through the 'avatars' policy")
        policy = avatars_policy(room)
        for key in store.list_keys(policy.key_prefix):
            store.delete(key)  # start each demo run clean
        ref = policy.put(PNG, filename="ada.png")
        db.execute("UPDATE quickstart_users SET avatar = :ref WHERE id = 1", {"ref": ref.model_dump_json()})
        console.print(
            f"stored {format_size(ref.size)} as [green]{ref.key}[/] ({ref.content_type}, {ref.checksum[:19]}...)"
        )
        stored = db.fetch_value("SELECT avatar FROM quickstart_users WHERE id = 1")
        again = storeroom.StoredObjectRef.model_validate_json(stored)
        assert store.read(again.key) == PNG
        console.print(f"read it back through the row's reference: {len(store.read(again.key))} bytes, intact")
        grace = policy.put(io.BytesIO(PNG[:1000]), filename="grace.jpg", content_type="image/jpeg")
        console.print(f"streamed a file object as [green]{grace.key}[/]")

        step("Rejected uploads store nothing")
        too_big = (b"\0" * 65536 for _ in range(40))  # 2.5 MiB, streamed: its size is unknown up front
        try:
            policy.put(too_big, filename="huge.png")
        except ContentTooLargeError as exc:
            console.print(f"[red]refused[/]: {exc}")
        try:
            policy.put(b"%PDF-1.7", filename="cv.pdf")
        except ContentTypeNotAllowedError as exc:
            console.print(f"[red]refused[/]: {exc}")

        step("A unit of work: the object and its row succeed or fail together")
        try:
            with room.unit_of_work(db.name) as uow:
                lost = uow.upload(policy, PNG, filename="grace.png")
                uow.tx.execute(
                    "UPDATE quickstart_users SET avatar = :ref WHERE id = 2", {"ref": lost.model_dump_json()}
                )
                raise RuntimeError("the request failed after the upload")
        except RuntimeError as exc:
            avatar = db.fetch_value("SELECT avatar FROM quickstart_users WHERE id = 2")
            console.print(
                f"[yellow]{exc}[/]: the upload is gone (exists: {store.exists(lost.key)}), the row unchanged "
                f"(avatar: {avatar})"
            )
        with room.unit_of_work(db.name) as uow:
            kept = uow.upload(policy, PNG, filename="grace.png")
            uow.tx.execute("UPDATE quickstart_users SET avatar = :ref WHERE id = 2", {"ref": kept.model_dump_json()})
        console.print(f"committed: [green]{kept.key}[/] and Grace's row now points at it")

        orm_demo(room)

        step("List what is stored")
        listing = Table("key", "size", title=f"objects under {policy.key_prefix!r}")
        for info in store.list(policy.key_prefix):
            listing.add_row(info.key, format_size(info.size))
        console.print(listing)

        step("Health")
        health = Table("component", "status", "latency", "message")
        report = room.health()
        for component, result in report.items():
            colour = {"healthy": "green", "degraded": "yellow"}.get(result.status, "red")
            latency = f"{result.latency_ms:.1f} ms" if result.latency_ms is not None else "-"
            health.add_row(component, f"[{colour}]{result.status}[/]", latency, result.message)
        console.print(health)
        ok = all(r.ok for r in report.values())
    console.print("\n[bold green]done[/] - data is in ./var (delete it any time)" if ok else "[bold red]unhealthy[/]")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
