"""Keeping secrets out of messages, logs, reprs and chained exceptions.

Two mechanisms. A registry: every secret a settings model loads is registered, so it is
masked wherever it later appears verbatim. And shapes that carry a secret whoever wrote them:
URL passwords (``scheme://user:password@``), ``key=value`` pairs whose key names a secret
(connection strings, DSNs, query strings, dict and JSON reprs, HTTP headers, XML elements) and
``Bearer`` / ``SharedKey`` tokens.

A ``key: value`` pair counts only when the key or the value is quoted (``'password': 'x'``)
or the key is a header name (``X-Amz-Security-Token: ...``): storeroom's own messages say
``databases.main.password: <what is wrong>``, and that is not a value to mask.

Every scan is linear in the length of the text (see the note on shapes below), so no message,
however hostile, makes redaction slow (``benchmarks/redaction.py`` measures it). Exceptions
are redacted in place, chain and all, by :func:`redact_exception`.
"""

from __future__ import annotations

import difflib
import functools
import re
import sys
import threading
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MASK",
    "SECRET_NAME_PATTERN",
    "is_secret_name",
    "redact",
    "redact_exception",
    "redact_mapping",
    "register_secret",
    "register_url_password",
    "url_password",
]

MASK = "***"

# -- shapes ----------------------------------------------------------------------------------
#
# Each pattern starts by consuming the character just before its shape, one its shape's own
# characters exclude: the regex engine then skips to such a character in a tight loop, so a long
# run (a megabyte of letters) is crossed once instead of being tried at every position, and no
# quantifier gives back what it took (possessive ``*+``). The text is scanned with a newline in
# front, so a shape may start it.

_PAD = "\n"

# scheme://user:password@ - the password runs to the last '@' of its token and may hold '/'
# (SQLAlchemy accepts it unencoded) but not whitespace or '//', which starts the next URL
_URL_PASSWORD = re.compile(
    r"[^A-Za-z0-9+.\-][A-Za-z][A-Za-z0-9+.\-]*+://[^:/?#\s]*+:(?P<secret>(?:(?:[^\s@/]|/(?!/))*+@)++)"
)

_K = r"A-Za-z0-9_.\-"  # characters of a key
# A key names a secret when it ends with one of these words (``db_password``, ``sslpassword``,
# ``X-Amz-Security-Token``, ``AccountKey``); ``pwd`` and ``sig`` only as a whole word (``PWD``,
# ``sig``, also right after an encoded ``;`` or ``&``), never inside one. The key is a whole run
# of key characters, so ``passwordless`` and ``Tokenizer`` are not keys that name a secret.
_ENDINGS = ["password", "passwd", "secret", "token", "signature", "amz_credential", "amz-credential"]
_ENDINGS += [f"{word}{sep}key" for word in ("api", "access", "account", "private") for sep in ("", "_", "-")]
_WHOLE_WORDS = ("pwd", "sig")


def _ends_with_a_secret_word() -> str:
    """Look-behinds at the end of a key run, grouped by last letter so most runs fail at one look."""
    looks: dict[str, list[str]] = {}
    for word in _ENDINGS:
        looks.setdefault(word[-1], []).append(f"(?<={word})")
    for word in _WHOLE_WORDS:
        looks.setdefault(word[-1], []).append(f"(?<={word})(?:(?<![A-Za-z0-9]{word})|(?<=%3B{word})|(?<=%26{word}))")
    return "(?i:" + "|".join(f"(?<={last})(?:{'|'.join(group)})" for last, group in looks.items()) + ")"


_PAIR = re.compile(
    rf"[^{_K}](?:(?<=<)(?P<lt>)|(?<=['\"])(?P<kq>))?"  # <SessionToken>..., 'password': ..., "token": ...
    rf"(?P<key>[{_K}]++)"
    r"(?=['\"]?[ \t]*+(?:[=:>]|%3[Dd]))"  # a separator follows: words of prose fail here, cheaply
    + _ends_with_a_secret_word()
    + r"(?(lt)>|(?(kq)['\"])[ \t]*+(?P<sep>=|%3[Dd]|:))"
)
# what follows the separator: a quoted value (also b'...'), an ODBC braced value (``}}``
# escapes a brace), a percent-encoded braced value, or a bare word
_VALUE_FORMS = (
    r"\s*+(?:b?'(?P<sq>[^'\n]*+)|b?\"(?P<dq>[^\"\n]*+)|(?P<braced>\{(?:[^}]|\}\})*+\}?)"
    r"|(?P<pbraced>%7[Bb](?:(?!%7[Dd]).)*+(?:%7[Dd])?)|(?P<bare>{bare}))"
)
_VALUE = re.compile(_VALUE_FORMS.replace("{bare}", r"[^\s;&'\",)<>]++"))
# after a percent-encoded '=' the value also ends at an encoded ';' or '&'
_ENCODED_VALUE = re.compile(_VALUE_FORMS.replace("{bare}", r"(?:[^\s;&'\",)<>%]|%(?!3[Bb]|26))++"))
_XML_VALUE = re.compile(r"(?P<bare>[^<]++)")
_VALUE_GROUPS = ("sq", "dq", "braced", "pbraced", "bare")

_TOKEN = re.compile(r"\b(?:Bearer|SharedKey(?:Lite)?)\s++(?P<secret>[A-Za-z0-9._~+/=:\-]++)")


_QUOTE_AHEAD = re.compile(r"\s*+b?['\"]")


def _colon_pair(pair: re.Match[str], text: str) -> bool:
    """``key: value`` is a secret pair when quoted (a repr, JSON, YAML) or a header/SDK log line.

    Decided before the value is scanned: scanning the value of every ``password: ...`` that is
    then left alone would make ``password:`` repeated quadratic.
    """
    if pair["kq"] is not None or _QUOTE_AHEAD.match(text, pair.end()):
        return True
    key = pair["key"].lower()
    return "-" in key or key.endswith("signature")  # botocore.auth logs "Signature:\n<hex>"


def _mask_pairs(text: str) -> str:
    text = _PAD + text
    out: list[str] = []
    done = pos = 0
    while (pair := _PAIR.search(text, pos)) is not None:
        pos = pair.end()
        sep = pair["sep"]
        if sep == ":" and not _colon_pair(pair, text):
            continue
        pattern = _XML_VALUE if sep is None else _VALUE if sep == ":" or sep == "=" else _ENCODED_VALUE
        value = pattern.match(text, pos)
        if value is None:
            continue
        group = next(g for g in _VALUE_GROUPS if g in value.re.groupindex and value[g] is not None)
        start, end = value.span(group)
        if end > start:
            out += (text[done:start], MASK)
            done = pos = end
    return ("".join(out) + text[done:])[len(_PAD) :]


def _mask_url_password(match: re.Match[str]) -> str:
    secret = match["secret"]
    head = match[0][: match.start("secret") - match.start()]
    return head + (MASK if len(secret) > 1 else "") + "@"


# -- the registry ------------------------------------------------------------------------------

_lock = threading.Lock()
_registered: set[str] = set()
_MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it appears in anything redacted later."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _registered.add(value)


def redact(text: object) -> str:
    """Return ``str(text)`` with every known or recognisable secret replaced by ``***``."""
    out = str(text)
    if not out:
        return out
    with _lock:
        secrets = sorted(_registered, key=len, reverse=True)
    for secret in secrets:
        if secret in out:
            out = out.replace(secret, MASK)
    # each scan only where its shape can be: a substring test is far cheaper than a scan
    if "://" in out:
        out = _URL_PASSWORD.sub(_mask_url_password, _PAD + out)[len(_PAD) :]
    if "=" in out or ":" in out or ">" in out or "%3" in out:
        out = _mask_pairs(out)
    if "Bearer" in out or "SharedKey" in out:
        out = _TOKEN.sub(lambda m: m[0][: m.start("secret") - m.start()] + MASK, out)
    return out


# -- URLs ----------------------------------------------------------------------------------------

_URL_USERINFO = re.compile(r"\s*+[A-Za-z][A-Za-z0-9+.\-]*+://[^:/]*+:")


def url_password(url: str) -> str | None:
    """The password of ``scheme://user:password@host...``, read as widely as any parser would.

    SQLAlchemy takes everything up to the first ``@`` after ``user:`` (``/`` and spaces
    included); a password with an unencoded ``@`` reaches further, so this runs to the last one.
    """
    match = _URL_USERINFO.match(url)
    if match is None:
        return None
    end = url.rfind("@", match.end())
    return url[match.end() : end] if end >= match.end() else None


def register_url_password(url: str) -> None:
    """Register the password of a URL, in every form a message may quote it (decoded, cut at an ``@``)."""
    from urllib.parse import unquote

    password = url_password(url)
    if not password:
        return
    for form in {password, password.split("@", 1)[0]}:
        register_secret(form)
        register_secret(unquote(form))


def _mask_url(url: str) -> str:
    password = url_password(url)
    if not password:
        return url
    start = _URL_USERINFO.match(url).end()  # type: ignore[union-attr]  # url_password matched it
    return url[:start] + MASK + url[start + len(password) :]


# -- settings ------------------------------------------------------------------------------------

SECRET_NAME_PATTERN = re.compile(
    r"(password|passwd|pwd|secret|token|account_key|accountkey|access_key|accesskey|credential|sas|private_key|"
    r"api_key|connection_string|odbc_connect)",
    re.IGNORECASE,
)
#: the words above without separators, for recognising a misspelled secret key (``passwrd``)
_SECRET_WORDS = (
    "password",
    "secret",
    "token",
    "accountkey",
    "accesskey",
    "accesskeyid",
    "secretaccesskey",
    "sessiontoken",
    "sastoken",
    "privatekey",
    "apikey",
    "connectionstring",
    "odbcconnect",
    "credential",
)


@functools.lru_cache(maxsize=1024)
def is_secret_name(name: str) -> bool:
    """Whether a settings key names a secret (``password``, ``access_key_id`` ...) or may be a misspelled one.

    A key close to a secret word (``passwrd``, ``acount_key``) is treated as one: a typo
    does not make its value any less secret.
    """
    if SECRET_NAME_PATTERN.search(name):
        return True
    flat = re.sub(r"[^a-z0-9]", "", name.lower())
    return bool(flat) and bool(difflib.get_close_matches(flat, _SECRET_WORDS, n=1, cutoff=0.8))


def redact_mapping(value: Any, *, _name: str = "") -> Any:
    """Deep-copy a settings tree with secret-named values masked and strings redacted.

    A URL's password is masked however it is written, ``/``, spaces and ``@`` included.
    """
    if isinstance(value, Mapping):
        return {k: redact_mapping(v, _name=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_mapping(v, _name=_name) for v in value]
    if value is not None and _name and is_secret_name(_name):
        return MASK
    if isinstance(value, str):
        return redact(_mask_url(value))
    return value


# -- exceptions ----------------------------------------------------------------------------------


def _redact_value(value: Any) -> Any:
    """Plain strings redacted, plain tuples walked; anything else (a ``str`` enum such as an SDK's
    error code, a named tuple) is left as it is: code may still compare it."""
    if type(value) is str:
        return redact(value)
    if type(value) is tuple:
        return tuple(_redact_value(v) for v in value)
    return value


def redact_exception(exc: BaseException | None = None) -> None:
    """Redact, in place, the text of ``exc`` and of everything it chains (default: the exception being handled).

    Every :class:`~storeroom.errors.StoreroomError` calls it when created inside an ``except``
    block, so what it will chain as ``__cause__`` / ``__context__`` shows no secret in
    ``traceback.format_exc()``: an SDK's message may quote a URL with a SAS signature or a
    password. Its ``args``, notes and string attributes are redacted; exceptions it holds
    (``__cause__``, ``__context__``, an ``ExceptionGroup``'s members, attributes such as
    ``orig``) are followed.
    """
    pending = [exc if exc is not None else sys.exc_info()[1]]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        _set(current, "args", _redact_value(current.args))
        notes = getattr(current, "__notes__", None)
        if isinstance(notes, list):
            notes[:] = [redact(n) for n in notes]
        attrs = dict(getattr(current, "__dict__", {}))
        attrs.update((name, getattr(current, name, None)) for name in _OSERROR_TEXT)
        for name, attr in attrs.items():
            if isinstance(attr, BaseException):
                pending.append(attr)
            elif type(attr) is str or type(attr) is tuple:
                _set(current, name, _redact_value(attr))
        pending += [current.__cause__, current.__context__]
        if isinstance(current, BaseExceptionGroup):
            pending += list(current.exceptions)


#: text kept in ``OSError``'s own slots rather than in ``args``
_OSERROR_TEXT = ("strerror", "filename", "filename2")


def _set(exc: BaseException, name: str, value: Any) -> None:
    if getattr(exc, name, None) == value:
        return
    try:
        setattr(exc, name, value)
    except (AttributeError, TypeError):  # a read-only attribute: the rest is still redacted
        pass
