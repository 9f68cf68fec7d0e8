"""Lesson Markdown to safe HTML.

markdown-it-py (CommonMark) renders; raw HTML in the source is kept by the
parser and then cleaned by nh3 (the Ammonia sanitiser), which only lets
through an allow-list of tags and attributes and only http(s)/mailto/tel
links — no scripts, no event handlers, no ``javascript:`` or ``data:`` URLs.
Sanitising the *output* means no Markdown trick can smuggle markup past it.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
    "dl", "dt", "dd", "kbd", "abbr", "figure", "figcaption",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


def render_markdown(source: str) -> Markup:
    """Render lesson Markdown to HTML that is safe to insert in a page.

    Level-one headings are demoted to ``h2``: the page already has its ``h1``.
    """
    html = _markdown.render(source or "")
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    # Sanitised by nh3 just above, so it is safe to mark as HTML.
    return Markup(clean)  # nosec B704
