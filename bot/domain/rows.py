"""From a stored row to the domain's own data class, which is what the domain hands out."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def copied(cls: type[T], row: object, **changes: Any) -> T:
    """A `cls` (a data class) with the values of the row's attributes of the same names,
    except for `changes`."""
    assert dataclasses.is_dataclass(cls)
    values = {field.name: getattr(row, field.name) for field in dataclasses.fields(cls)}
    return cls(**{**values, **changes})
