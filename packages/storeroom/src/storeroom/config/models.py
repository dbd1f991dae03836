"""Pydantic models validating each settings entry; errors name the offending key.

Backend plugins subclass :class:`DatabaseSettings` / :class:`StorageSettings` (or
:class:`ServerDatabaseSettings` for client/server databases) and point their
class's ``settings_model`` at it.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from storeroom._spelling import did_you_mean
from storeroom.errors import ConfigurationError
from storeroom.redaction import is_secret_name, redact, register_secret
from storeroom.sizes import parse_size

__all__ = [
    "BackendSettings",
    "DatabaseSettings",
    "PolicySettings",
    "PoolSettings",
    "ServerDatabaseSettings",
    "Size",
    "StorageSettings",
    "validate_model",
]

M = TypeVar("M", bound=BaseModel)


def _size(value: Any) -> Any:
    if not isinstance(value, str | int):
        return value
    try:
        return parse_size(value)
    except ConfigurationError as exc:  # pydantic reports ValueErrors with the field's location
        raise ValueError(exc.message.removeprefix("size: ")) from None


Size = Annotated[int, BeforeValidator(_size)]


def _wants_number(annotation: Any) -> bool:
    """``int`` / ``float`` fields (also ``Annotated``, ``X | None``), but not ``bool`` ones."""
    if annotation in (int, float):
        return True
    args = get_args(annotation)
    return bool(args) and bool not in args and any(_wants_number(a) for a in args if a is not type(None))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """``size = true`` is not 1: pydantic's lax mode would take a bool for an int or float."""
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(value, bool) and field is not None and _wants_number(field.annotation):
            raise ValueError("expected a number, not true/false")
        return value


class PoolSettings(_Strict):
    """SQLAlchemy QueuePool settings. ``recycle=-1`` disables recycling."""

    size: int = Field(5, ge=1)
    max_overflow: int = Field(10, ge=0)
    timeout: float = Field(30.0, gt=0)
    recycle: int = Field(1800, ge=-1)
    pre_ping: bool = True
    lifo: bool = True


class BackendSettings(_Strict):
    backend: str
    default: bool = False


class DatabaseSettings(BackendSettings):
    pool: PoolSettings = PoolSettings()


class StorageSettings(BackendSettings):
    pass


class ServerDatabaseSettings(DatabaseSettings):
    """A client/server database: a ``url`` or its parts, plus timeouts."""

    url: str | None = None
    host: str | None = None
    port: int | None = Field(None, ge=1, le=65535)
    user: str | None = None
    password: SecretStr | None = None
    database: str | None = None
    options: dict[str, str] = Field(default_factory=dict)
    connect_timeout: float | None = Field(10.0, gt=0)
    statement_timeout: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _url_or_parts(self) -> ServerDatabaseSettings:
        if self.url and self.host:
            raise ValueError("give either 'url' or 'host' (with port, user, password, database), not both")
        if not self.url and not self.host:
            raise ValueError("missing 'url' (or 'host' with port, user, password, database)")
        if self.password is not None:
            register_secret(self.password.get_secret_value())
        if self.url:
            _register_url_password(self.url)
        return self


def _register_url_password(url: str) -> None:
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        return
    if password:
        register_secret(password)
        register_secret(unquote(password))


class PolicySettings(_Strict):
    """Checked when loaded, with the same rules :class:`~storeroom.policy.StoragePolicy` applies."""

    storage: str
    key_prefix: str = ""
    max_size: Size | None = None
    content_types: list[str] | None = None

    @field_validator("key_prefix")
    @classmethod
    def _key_prefix(cls, value: str) -> str:
        from storeroom.policy import validate_key_prefix

        return validate_key_prefix(value)  # InvalidKeyError is a ValueError: reported with the key

    @field_validator("content_types")
    @classmethod
    def _content_types(cls, value: list[str] | None) -> list[str] | None:
        from storeroom.policy import check_limits

        check_limits(None, value)
        return value

    @field_validator("max_size")
    @classmethod
    def _max_size(cls, value: int | None) -> int | None:
        from storeroom.policy import check_limits

        check_limits(value, None)
        return value


def _describe(error: dict[str, Any], prefix: str, model: type[BaseModel] | None = None) -> str:
    loc = ".".join(str(p) for p in error.get("loc", ()) if p != "__root__")
    key = f"{prefix}.{loc}" if loc else prefix
    msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    shown = ""
    if "input" in error and not any(is_secret_name(str(p)) for p in error.get("loc", ())):
        value = error["input"]
        if isinstance(value, str | int | float | bool) and loc:
            shown = f" (got {redact(repr(value))})"
    if error.get("type") == "extra_forbidden":
        loc_parts = [str(p) for p in error.get("loc", ())]
        hint = did_you_mean(loc_parts[-1], _known_keys(model, loc_parts[:-1])) if model and loc_parts else ""
        msg = "unknown key" + (hint or "; check the spelling or the backend's documented keys")
    return f"{key}: {msg}{shown}"


def _known_keys(model: type[BaseModel], path: list[str]) -> list[str]:
    """The keys ``model`` accepts at ``path`` (nested models followed, Optional unwrapped)."""
    current: Any = model
    for part in path:
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        current = next(
            (t for t in (fields[part].annotation, *get_args(fields[part].annotation)) if hasattr(t, "model_fields")),
            None,
        )
    fields = getattr(current, "model_fields", None) or {}
    return [field.alias or name for name, field in fields.items()]


def validate_model(model: type[M], raw: Any, key: str) -> M:
    """Validate ``raw`` against ``model``; raise ConfigurationError naming each bad key."""
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{key}: expected a table of settings, got {type(raw).__name__}", key=key)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        lines = [_describe(dict(e), key, model) for e in errors]
        first = lines[0].split(":", 1)[0] if lines else key
        raise ConfigurationError("invalid settings: " + "; ".join(lines), key=first) from None
    except ConfigurationError as exc:
        raise ConfigurationError(f"{key}: {exc.message}", key=key) from None
