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


# -- shapes: every real one masked, harmless text left alone ---------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("{'password': 'hunter 22 spaced', 'user': 'bob'}", "hunter 22 spaced"),
        ('{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG", "AccessKeyId": "ASIA"}', "wJalrXUtnFEMI"),
        ("headers={'X-Amz-Security-Token': b'FQoGZXIvYXdzEJr', 'Content-Length': '1'}", "FQoGZXIvYXdzEJr"),
        ("host:127.0.0.1\nx-amz-security-token:FQoGZXIvYXdzEJr\nx-amz-date:20240101", "FQoGZXIvYXdzEJr"),
        ("Signature:\nabcdef0123456789", "abcdef0123456789"),
        ("<Credentials><SecretAccessKey>wJalrXUt</SecretAccessKey><SessionToken>FQoGZX</SessionToken>", "FQoGZX"),
        ("<Credentials><SecretAccessKey>wJalrXUt</SecretAccessKey></Credentials>", "wJalrXUt"),
        ("db_password=hunter22 other=1", "hunter22"),
        ("host=db sslpassword=abc12345", "abc12345"),
        ("grant_type=refresh&refresh_token=tok12345", "tok12345"),
        ("x-api-key=key12345", "key12345"),
        ("Authorization: SharedKey devstoreaccount1:c2lnbmF0dXJl+/=", "c2lnbmF0dXJl"),
        ("postgresql://u:pw/with/slash@h/d", "pw/with/slash"),
        ("postgresql://user@tenant:Secr3tPw@h/d", "Secr3tPw"),
        ("url?X-Amz-Credential=AKIA%2F2024&X-Amz-Signature=deadbeef&X-Amz-Security-Token=FQo%2Bx", "FQo%2Bx"),
        ("password: 'quoted after a colon'", "quoted after a colon"),
        ("UID=sa;PWD=hunter22", "hunter22"),
    ],
)
def test_more_real_shapes_are_masked(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert "***" in out


@pytest.mark.parametrize(
    "text",
    [
        "Input should be a valid string",
        "databases.main.password: Input should be a valid string",
        "storages.files.sas_token: Input should be a valid string",
        "Tokenizer=word-piece",
        "passwordless=true",
        "tokens=5",
        "design=minimal signal=9 consignment=3 sigma=1",
        "Access denied for user 'root'@'127.0.0.1' (using password: YES)",
        "with 'account_url' give exactly one of 'account_key', 'sas_token' or 'credential = \"default\"'",
        "key='avatars/a.png' content_type='image/png'",
        "http://host:8080/path and more",
        "mysql://root@localhost/test",
        "s3://bucket/key",
        "password=",
    ],
)
def test_harmless_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_only_the_value_is_masked() -> None:
    assert redact("{'password': 'a b', 'x': 1}") == "{'password': '***', 'x': 1}"
    assert redact("x-amz-security-token:FQo\nnext") == "x-amz-security-token:***\nnext"
    assert redact("odbc_connect=UID%3Dsa%3BPWD%3Dhunter22%3BX%3Dy") == "odbc_connect=UID%3Dsa%3BPWD%3D***%3BX%3Dy"
    assert redact("mysql://root:@h/db") == "mysql://root:@h/db"  # an empty password stays empty


@pytest.mark.parametrize(
    "hostile",
    ["a" * 20_000, "a://" * 5_000, "a://b:" * 3_000, "password=" * 2_000, "password:" * 2_000, ":" * 20_000],
    ids=["letters", "schemes", "userinfo", "pairs", "colon-pairs", "colons"],
)
def test_hostile_input_is_redacted_correctly(hostile: str) -> None:
    """Correctness only; ``benchmarks/redaction.py`` measures that the time grows linearly."""
    out = redact(hostile + " password=hunter22")
    assert "hunter22" not in out
    assert out.startswith(hostile[:50]) or "***" in out[:50]


# -- exceptions -------------------------------------------------------------------------------


def test_redact_exception_follows_the_whole_chain() -> None:
    from storeroom.redaction import redact_exception

    inner = OSError(111, "refused at postgresql://u:Chain-Pw-1@h/d", "sig=Chain-Sig-2")
    try:
        try:
            raise inner
        except OSError as exc:
            middle = RuntimeError("retried https://a/b?sig=Chain-Sig-3&x=1")
            middle.url = "https://a/b?sig=Chain-Sig-4"  # type: ignore[attr-defined]
            middle.add_note("note: password=Chain-Pw-5")
            raise middle from exc
    except RuntimeError as exc:
        group = ExceptionGroup("several", [exc, ValueError("token=Chain-Tok-6")])
    redact_exception(group)
    import traceback

    text = "".join(traceback.format_exception(group)) + repr(middle.url)  # type: ignore[attr-defined]
    assert "Chain-" not in text, text
    assert inner.errno == 111  # only text changes


def test_redact_exception_leaves_what_code_compares_alone() -> None:
    """An SDK's error code is often a ``str`` enum, and code reads it after translating."""
    import enum
    from typing import NamedTuple

    from storeroom.redaction import redact_exception

    class Code(str, enum.Enum):  # noqa: UP042 - the shape SDK error codes have (azure-core)
        INVALID_BLOCK_LIST = "InvalidBlockList"

    class Where(NamedTuple):
        host: str
        port: int

    exc = RuntimeError("failed: password=Kept-Out-1")
    exc.error_code = Code.INVALID_BLOCK_LIST  # type: ignore[attr-defined]
    exc.where = Where("h", 1)  # type: ignore[attr-defined]
    redact_exception(exc)
    assert exc.error_code is Code.INVALID_BLOCK_LIST  # type: ignore[attr-defined]
    assert type(exc.where) is Where  # type: ignore[attr-defined]
    assert str(exc) == "failed: password=***"


def test_an_error_created_while_handling_redacts_what_it_will_chain() -> None:
    import traceback

    signature = "Handled-" + "Sig-1"  # not in the source lines the traceback quotes

    def translate() -> None:
        try:
            raise ConnectionError(f"cannot reach https://acct/c/k?sv=1&sig={signature}")
        except ConnectionError as exc:
            raise ConnectionFailedError("could not reach the server") from exc

    with pytest.raises(ConnectionFailedError) as info:
        translate()
    assert signature not in "".join(traceback.format_exception(info.value))
    assert "sig=***" in str(info.value.__cause__)


# -- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["password", "passwrd", "pasword", "acount_key", "aws_access_key", "access_key_id", "secret_acess_key", "sas_tokn"],
)
def test_secret_names_and_their_misspellings(name: str) -> None:
    from storeroom.redaction import is_secret_name

    assert is_secret_name(name)


def test_settings_keys_that_are_not_secret() -> None:
    """Every key of every installed backend's settings that is not a SecretStr reads as not secret."""
    from pydantic import SecretStr

    from storeroom.plugins import PluginManager
    from storeroom.redaction import is_secret_name

    manager = PluginManager()
    checked = 0
    for registry in (manager.databases, manager.storages):
        for name in registry.names():
            model = getattr(registry.get(name), "settings_model", None)
            for key, field in getattr(model, "model_fields", {}).items():
                holds_secret = SecretStr in (field.annotation, *getattr(field.annotation, "__args__", ()))
                if not holds_secret and key != "credential":  # azure's "default": masked, harmlessly
                    assert not is_secret_name(key), f"{name}.{key}"
                    checked += 1
    assert checked > 50


def test_redact_mapping_masks_url_passwords_however_written() -> None:
    tree = {
        "a": "postgresql://u:pw/with slash@h/d",
        "b": "postgresql://u:p@ss:word@h:5432/d",
        "c": "sqlite:///var/x.db",
        "d": "http://host:8080/path",
        "access_key_id": "AKIAEXAMPLE",
        "passwrd": "typo-secret",
    }
    assert redact_mapping(tree) == {
        "a": "postgresql://u:***@h/d",
        "b": "postgresql://u:***@h:5432/d",
        "c": "sqlite:///var/x.db",
        "d": "http://host:8080/path",
        "access_key_id": "***",
        "passwrd": "***",
    }
