"""The text of the widget's HTML, for the tests of helpers.widgets and helpers.stepper_view."""

import html
import re


def plain(fragment: str) -> str:
    """The text of an HTML fragment (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))
