"""Long lists cut into pages: the page asked for in the query string, and the
links of a pager that keep every other parameter (filters) of the page.

Page links are plain GET links (``<nav class="pager">`` in the templates, the
current one with ``aria-current="page"``); a long run of pages shows the
first, the last and those around the current one, with gaps between.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import url_for
from werkzeug.datastructures import MultiDict


def page_number(args: MultiDict, name: str = "page") -> int:
    """``?page=`` of a list; anything but a page number counts as the first page,
    like the filters' wrong values (the caller caps it at the last page)."""
    text = args.get(name, "")
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) <= 6 and int(text) > 0 else 1


def page_count(items: int, size: int) -> int:
    return max(1, -(-items // size))


@dataclass
class Pager:
    """Where a list is cut into pages; the links keep the other parameters."""

    page: int
    pages: int
    args: list[tuple[str, str]]  # the query string without the page
    endpoint: str
    name: str = "page"
    anchor: str | None = None  # where the list is on its page

    @classmethod
    def of(cls, page: int, pages: int, args: MultiDict, endpoint: str, *, name: str = "page",
           anchor: str | None = None) -> Pager:
        return cls(page, pages, [(k, v) for k, v in args.items(multi=True) if k != name], endpoint, name, anchor)

    def url(self, page: int) -> str:
        query = [*self.args, (self.name, str(page))] if page > 1 else self.args
        return (url_for(self.endpoint) + ("?" + urlencode(query) if query else "")
                + (f"#{self.anchor}" if self.anchor else ""))

    @property
    def numbers(self) -> list[int | None]:
        """The page numbers to link, None where some are left out (shown as "…")."""
        if self.pages <= 7:
            return list(range(1, self.pages + 1))
        shown = sorted({1, self.pages, *range(max(1, self.page - 1), min(self.pages, self.page + 1) + 1)})
        numbers: list[int | None] = []
        for n in shown:
            if numbers and n - numbers[-1] > 1:  # type: ignore[operator]
                numbers.append(None)
            numbers.append(n)
        return numbers
