"""Pydantic models validating each settings entry; errors name the offending key.

Backend plugins subclass :class:`DatabaseSettings` / :class:`StorageSettings` (or
:class:`ServerDatabaseSettings` for client/server databases) and point their
class's ``settings_model`` at it.
"""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

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
from pydantic.fields import FieldInfo

from storeroom._spelling import did_you_mean
from storeroom.errors import ConfigurationError
from storeroom.redaction import is_secret_name, register_secret, register_url_password
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


def _holds_secret(name: str, annotation: Any) -> bool:
    """A ``SecretStr`` field (also ``SecretStr | None``) or one whose name says it is a secret."""
    return is_secret_name(name) or annotation is SecretStr or any(_holds_secret("", a) for a in get_args(annotation))


def _strip(value: Any, secret: bool = False) -> Any:
    """Surrounding whitespace off every string, except a secret's: a password keeps its exact value."""
    if isinstance(value, str):
        return value if secret else value.strip()
    if isinstance(value, list):
        return [_strip(v, secret) for v in value]
    if isinstance(value, dict):
        return {k: _strip(v, secret or is_secret_name(str(k))) for k, v in value.items()}
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _tidy(cls, value: Any, info: ValidationInfo) -> Any:
        """Strip whitespace from strings but secrets; ``size = true`` is not 1 (pydantic's lax mode
        would take a bool for an int or float)."""
        name = info.field_name or ""
        field = cls.model_fields.get(name)
        if field is None:
            return value
        if isinstance(value, bool) and _wants_number(field.annotation):
            raise ValueError("expected a number, not true/false")
        return _strip(value, _holds_secret(name, field.annotation))


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
            register_url_password(self.url)
        return self


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
    """``key: problem``, never the value unless it cannot be a secret (see :func:`_shown_value`)."""
    loc_parts = [str(p) for p in error.get("loc", ()) if p != "__root__"]
    loc = ".".join(loc_parts)
    key = f"{prefix}.{loc}" if loc else prefix
    msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if error.get("type") == "extra_forbidden":
        hint = did_you_mean(loc_parts[-1], _known_keys(model, loc_parts[:-1])) if model and loc_parts else ""
        return f"{key}: unknown key" + (hint or "; check the spelling or the backend's documented keys")
    return f"{key}: {msg}{_shown_value(error, loc_parts, model)}"


def _shown_value(error: dict[str, Any], loc_parts: list[str], model: type[BaseModel] | None) -> str:
    """`` (got 'lots')`` for a value no secret can be: under a key the model declares, that names no
    secret, whose type is a number, true/false or a fixed choice.

    Any other value stays out of the message: a string may be a secret, a misspelled key
    (``passwrd``) cannot be known not to be one, and a URL may hold a password.
    """
    value = error.get("input")
    if not isinstance(value, str | int | float) or not loc_parts or model is None:
        return ""
    field = _fields_at(model, loc_parts[:-1]).get(loc_parts[-1])
    if field is None or any(is_secret_name(p) for p in loc_parts) or not _cannot_be_secret(field.annotation):
        return ""
    shown = repr(value)
    return f" (got {shown if len(shown) <= 40 else shown[:36] + '...'})"


def _cannot_be_secret(annotation: Any) -> bool:
    """A number, true/false or a ``Literal`` choice (also ``X | None``): nobody types a secret there."""
    if annotation in (int, float, bool) or get_origin(annotation) is Literal:
        return True
    args = [a for a in get_args(annotation) if a is not type(None)]
    return get_origin(annotation) in (Union, UnionType) and bool(args) and all(_cannot_be_secret(a) for a in args)


def _fields_at(model: type[BaseModel], path: list[str]) -> dict[str, FieldInfo]:
    """The fields ``model`` declares at ``path`` (nested models followed, Optional unwrapped)."""
    current: Any = model
    for part in path:
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return {}
        current = next(
            (t for t in (fields[part].annotation, *get_args(fields[part].annotation)) if hasattr(t, "model_fields")),
            None,
        )
    return dict(getattr(current, "model_fields", None) or {})


def _known_keys(model: type[BaseModel], path: list[str]) -> list[str]:
    """The keys ``model`` accepts at ``path``."""
    return [field.alias or name for name, field in _fields_at(model, path).items()]


def validate_model(model: type[M], raw: Any, key: str) -> M:
    """Validate ``raw`` against ``model``; raise ConfigurationError naming each bad key."""
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{key}: expected a table of settings, got {type(raw).__name__}", key=key)
    # Raised outside the ``except`` blocks: chained, pydantic's error would carry every input
    # value (a misspelled password's too) along as ``__context__``.
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(dict(e), key, model) for e in exc.errors(include_url=False)]
        error = ConfigurationError("invalid settings: " + "; ".join(lines), key=lines[0].split(":", 1)[0])
    except ConfigurationError as exc:
        error = ConfigurationError(f"{key}: {exc.message}", key=key)
    raise error
