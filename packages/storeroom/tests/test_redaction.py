import pytest

from storeroom import redact
from storeroom.errors import ConnectionFailedError, QueryError
from storeroom.health import HealthResult, HealthStatus
from storeroom.redaction import redact_mapping, register_secret


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("postgresql://bob:hunter22@db:5432/app", "hunter22"),
        ("postgresql+psycopg://bob:p@ss@w0rd@db/app", "ss@w0rd"),
        ("mysql://root:toor99@127.0.0.1/test?charset=utf8", "toor99"),
        ("host=db user=bob password=hunter22 dbname=app", "hunter22"),
        ("DefaultEndpointsProtocol=https;AccountName=dev;AccountKey=Zm9vYmFy+/==;EndpointSuffix=x", "Zm9vYmFy"),
        ("https://acct.blob.core.windows.net/c/b?sv=2024&sig=AbC%2FdEf&se=2030", "AbC%2FdEf"),
        ("https://bucket.s3/x?X-Amz-Signature=deadbeefcafe&X-Amz-Credential=AKIAXYZ", "deadbeefcafe"),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi"),
        ("secret_access_key='wJalrXUtnFEMI'", "wJalrXUtnFEMI"),
        ("DRIVER={ODBC Driver 18};SERVER=db;UID=sa;PWD={ab;cd ef}};gh};Encrypt=yes", "cd ef}};gh"),
        ("DRIVER={ODBC Driver 18};UID=sa;PWD={ab;cd ef}", "cd ef"),
        ("mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC%7D%3BPWD%3Dhunter22%3BUID%3Dsa", "hunter22"),
        ("mssql+pyodbc:///?odbc_connect=UID%3Dsa%3BPWD%3D%7Bhun%3Bter22%7D%3BX%3Dy", "ter22"),
    ],
)
def test_patterns_are_masked(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert "***" in out


def test_odbc_braced_value_masks_only_the_value() -> None:
    out = redact("UID=sa;PWD={a;b}};c};Encrypt=yes")
    assert out == "UID=sa;PWD=***;Encrypt=yes"


def test_plain_text_untouched() -> None:
    assert redact("mysql://root@localhost/test") == "mysql://root@localhost/test"
    assert redact("nothing to see") == "nothing to see"


def test_registered_secret_masked_everywhere() -> None:
    register_secret("correct-horse-battery")
    assert "correct-horse" not in redact("login failed for correct-horse-battery at 10:00")


def test_errors_and_health_are_redacted_on_creation() -> None:
    err = ConnectionFailedError("could not connect to postgresql://u:topsecret1@h/d")
    assert "topsecret1" not in str(err) and "topsecret1" not in repr(err)
    q = QueryError("bad: password=abc123x", statement="SELECT 1")
    assert "abc123x" not in str(q)
    assert q.statement == "SELECT 1"
    h = HealthResult("databases.main", HealthStatus.UNHEALTHY, "refused postgresql://u:topsecret2@h/d")
    assert "topsecret2" not in h.message


def test_redact_mapping_masks_secret_names() -> None:
    tree = {
        "databases": {"main": {"url": "postgresql://u:pw12345@h/d", "password": "x", "pool": {"size": 5}}},
        "storages": {"s3": {"secret_access_key": "abc", "access_key_id": "AKIA", "connection_string": None}},
    }
    out = redact_mapping(tree)
    assert out["databases"]["main"]["password"] == "***"
    assert "pw12345" not in out["databases"]["main"]["url"]
    assert out["databases"]["main"]["pool"] == {"size": 5}
    assert out["storages"]["s3"]["secret_access_key"] == "***"
    assert out["storages"]["s3"]["connection_string"] is None


def test_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    from storeroom.logs import get_logger

    log = get_logger("storeroom.test")
    with caplog.at_level("INFO", logger="storeroom.test"):
        log.info("connecting to %s", "postgresql://app:LogSecret-1@db/app")
        try:
            raise RuntimeError("auth failed for password=LogSecret-2")
        except RuntimeError:
            log.exception("failed")
    assert "LogSecret" not in caplog.text
    assert "postgresql://app:***@db/app" in caplog.text
