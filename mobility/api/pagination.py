"""Every list is paginated the same way: `?limit=&offset=`, answered with a `Page`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

T = TypeVar("T")
MAX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class PageParams:
    """Which slice of a list to return."""

    limit: int = 50
    offset: int = 0


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31, description="Items to skip.")] = 0,
) -> PageParams:
    """The dependency routes take their page from."""
    return PageParams(limit, offset)


Paging = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    """One page of a list and where it sits in the whole."""

    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: Sequence[T], total: int, params: PageParams) -> Page[T]:
        """A page holding `items` (already sliced) out of `total`."""
        return cls(items=list(items), total=total, limit=params.limit, offset=params.offset)

    @classmethod
    def slice(cls, everything: Sequence[T], params: PageParams) -> Page[T]:
        """The page of an in-memory list."""
        return cls.of(everything[params.offset : params.offset + params.limit], len(everything), params)
