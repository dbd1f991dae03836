"""Part sizes stay within S3's limits: 10,000 parts, 5 MiB floor, 5 GiB ceiling, 5 TiB objects."""

from __future__ import annotations

import itertools

import pytest

from storeroom_s3._parts import (
    DEFAULT_PART_SIZE,
    MAX_OBJECT_SIZE,
    MAX_PART_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
    PARTS_PER_DOUBLING,
    PartPlan,
    part_size_for_length,
    split_ranges,
)

MiB = 1024 * 1024
GiB = 1024 * MiB
TiB = 1024 * GiB


@pytest.mark.parametrize(
    "length",
    [0, 1, 8 * MiB, 80_000 * MiB, 80_000 * MiB + 1, 100 * 1000**3, TiB, 3 * TiB + 17, MAX_OBJECT_SIZE],
)
def test_known_length_fits_in_10000_parts(length: int) -> None:
    size = part_size_for_length(length)
    assert MIN_PART_SIZE <= size <= MAX_PART_SIZE
    assert size >= DEFAULT_PART_SIZE
    assert size % MiB == 0
    assert -(-length // size) <= MAX_PARTS


def test_small_objects_keep_the_default_part_size() -> None:
    assert part_size_for_length(1000 * MiB) == DEFAULT_PART_SIZE
    assert part_size_for_length(DEFAULT_PART_SIZE * MAX_PARTS) == DEFAULT_PART_SIZE
    assert part_size_for_length(DEFAULT_PART_SIZE * MAX_PARTS + 1) == DEFAULT_PART_SIZE + MiB


def test_part_size_is_the_smallest_that_fits() -> None:
    length = 123_456 * MiB
    size = part_size_for_length(length)
    assert -(-length // (size - MiB)) > MAX_PARTS


def test_5_tib_is_the_limit() -> None:
    assert part_size_for_length(MAX_OBJECT_SIZE) * MAX_PARTS >= MAX_OBJECT_SIZE
    with pytest.raises(ValueError, match="5 TiB"):
        part_size_for_length(MAX_OBJECT_SIZE + 1)


@pytest.mark.parametrize("base", [1, MiB, MIN_PART_SIZE - 1])
def test_never_below_5_mib(base: int) -> None:
    assert part_size_for_length(10, base) == MIN_PART_SIZE
    assert PartPlan(None, base).first == MIN_PART_SIZE


def test_never_above_5_gib() -> None:
    assert part_size_for_length(10, 10 * GiB) == MAX_PART_SIZE
    assert PartPlan(None, 4 * GiB).size(MAX_PARTS) == MAX_PART_SIZE


def test_unknown_length_doubles_every_1000_parts() -> None:
    plan = PartPlan(None)
    assert plan.size(1) == plan.size(PARTS_PER_DOUBLING) == DEFAULT_PART_SIZE
    assert plan.size(PARTS_PER_DOUBLING + 1) == 2 * DEFAULT_PART_SIZE
    assert plan.size(2 * PARTS_PER_DOUBLING + 1) == 4 * DEFAULT_PART_SIZE
    assert plan.size(MAX_PARTS) == DEFAULT_PART_SIZE << 9


@pytest.mark.parametrize("base", [MIN_PART_SIZE, DEFAULT_PART_SIZE, 64 * MiB])
def test_unknown_length_reaches_5_tib(base: int) -> None:
    plan = PartPlan(None, base)
    assert plan.every == (PARTS_PER_DOUBLING if base >= DEFAULT_PART_SIZE else 990)
    assert plan.capacity() == MAX_OBJECT_SIZE
    total = sum(plan.size(n) for n in range(1, MAX_PARTS + 1))
    assert total >= MAX_OBJECT_SIZE
    assert all(MIN_PART_SIZE <= plan.size(n) <= MAX_PART_SIZE for n in range(1, MAX_PARTS + 1, 97))


def test_known_length_plan_is_fixed() -> None:
    plan = PartPlan(2 * TiB)
    assert plan.first == plan.size(MAX_PARTS) == part_size_for_length(2 * TiB)
    assert plan.capacity() >= 2 * TiB


@pytest.mark.parametrize("number", [0, MAX_PARTS + 1])
def test_part_numbers_are_1_to_10000(number: int) -> None:
    with pytest.raises(ValueError, match="S3 allows parts"):
        PartPlan(None).size(number)


@pytest.mark.parametrize(("size", "part"), [(1, 5), (10, 5), (11, 5), (12 * MiB + 7, 5 * MiB)])
def test_split_ranges_cover_exactly(size: int, part: int) -> None:
    ranges = split_ranges(size, part)
    assert ranges[0][0] == 0 and ranges[-1][1] == size - 1
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(ranges))
    assert all(last - first + 1 <= part for first, last in ranges)
