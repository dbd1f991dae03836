"""The argument parsing plugin commands share: ages and ``module:attr`` targets."""

from __future__ import annotations

import datetime as dt

import click
import pytest

from storeroom.cli.params import AGE, load_target, parse_age
from storeroom.errors import ConfigurationError, SchemaSyncError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90d", dt.timedelta(days=90)),
        (" 12h ", dt.timedelta(hours=12)),
        ("30m", dt.timedelta(minutes=30)),
        ("45s", dt.timedelta(seconds=45)),
        ("2w", dt.timedelta(weeks=2)),
        ("0s", dt.timedelta(0)),
    ],
)
def test_ages(text: str, expected: dt.timedelta) -> None:
    assert parse_age(text) == expected
    assert AGE.convert(text, None, None) == expected


@pytest.mark.parametrize("text", ["", "d", "90", "1.5h", "-1d", "3y", "1 d h"])
def test_bad_ages_say_what_an_age_is(text: str) -> None:
    with pytest.raises(ConfigurationError, match="90d"):
        parse_age(text)
    with pytest.raises(click.BadParameter, match="90d"):
        AGE.convert(text, None, None)


def test_targets_resolve_dotted_attributes() -> None:
    assert load_target("datetime:timedelta.max") == dt.timedelta.max


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("datetime", "module:attr"),
        (":x", "module:attr"),
        ("no_such_module_xyz:a", "cannot import"),
        ("datetime:nope", "no attribute"),
    ],
)
def test_bad_targets_raise_the_callers_error(spec: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_target(spec)
    with pytest.raises(SchemaSyncError, match=message):
        load_target(spec, error=SchemaSyncError)
