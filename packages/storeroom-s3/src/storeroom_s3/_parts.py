"""Part sizes for multipart uploads and copies, within S3's limits.

S3 allows at most 10,000 parts of 5 MiB to 5 GiB each (the last may be smaller)
and objects up to 5 TiB. A known length gets one part size, the smallest
multiple of 1 MiB (at least the configured base) that fits in 10,000 parts. An
unknown length (a generator) starts at the base and doubles every 1,000 parts,
so 8 MiB parts reach 8 x 1000 x (2^10 - 1) MiB ~ 8 TiB within 10,000 parts while
small streams keep small parts, and memory stays (concurrency + 1) x the current
part size. Bases under ~5.2 MiB double slightly more often (every 990 parts for
5 MiB), so 10,000 parts always hold 5 TiB.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_PART_SIZE",
    "MAX_OBJECT_SIZE",
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MIN_PART_SIZE",
    "PARTS_PER_DOUBLING",
    "PartPlan",
    "part_size_for_length",
    "split_ranges",
]

MiB = 1024 * 1024
MIN_PART_SIZE = 5 * MiB
MAX_PART_SIZE = 5 * 1024 * MiB
DEFAULT_PART_SIZE = 8 * MiB
MAX_PARTS = 10_000
MAX_OBJECT_SIZE = 5 * 1024 * 1024 * MiB
PARTS_PER_DOUBLING = 1_000


def _clamp(size: int) -> int:
    return max(MIN_PART_SIZE, min(MAX_PART_SIZE, size))


def part_size_for_length(length: int, base: int = DEFAULT_PART_SIZE) -> int:
    """One part size for ``length`` bytes: >= ``base``, whole MiB, <= 10,000 parts."""
    if length > MAX_OBJECT_SIZE:
        raise ValueError(f"{length} bytes exceeds S3's 5 TiB object limit")
    needed = -(-length // MAX_PARTS)  # ceil
    needed = -(-needed // MiB) * MiB
    return _clamp(max(base, needed))


class PartPlan:
    """Sizes of successive parts; ``length`` is the total when known, else ``None``."""

    def __init__(self, length: int | None, base: int = DEFAULT_PART_SIZE) -> None:
        self.length = length
        self.base = _clamp(base)
        self._fixed = part_size_for_length(length, self.base) if length is not None else None
        self.every = PARTS_PER_DOUBLING
        while self._growing_capacity() < MAX_OBJECT_SIZE:
            self.every -= 10

    @property
    def first(self) -> int:
        return self.size(1)

    def size(self, part_number: int) -> int:
        """Size of part ``part_number`` (1-based)."""
        if not 1 <= part_number <= MAX_PARTS:
            raise ValueError(f"S3 allows parts 1..{MAX_PARTS}, not {part_number}")
        if self._fixed is not None:
            return self._fixed
        return self._growing(part_number)

    def _growing(self, part_number: int) -> int:
        return _clamp(self.base << ((part_number - 1) // self.every))

    def _growing_capacity(self) -> int:
        full, rest = divmod(MAX_PARTS, self.every)
        total = sum(self._growing(1 + block * self.every) * self.every for block in range(full))
        return total + (self._growing(MAX_PARTS) * rest if rest else 0)

    def capacity(self) -> int:
        """Bytes that fit in 10,000 parts under this plan (at most S3's 5 TiB)."""
        if self._fixed is not None:
            return min(self._fixed * MAX_PARTS, MAX_OBJECT_SIZE)
        return min(self._growing_capacity(), MAX_OBJECT_SIZE)


def split_ranges(size: int, part_size: int) -> list[tuple[int, int]]:
    """Inclusive ``(first, last)`` byte ranges covering ``size`` bytes (for UploadPartCopy)."""
    return [(start, min(start + part_size, size) - 1) for start in range(0, size, part_size)]
