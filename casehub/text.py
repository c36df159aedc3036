"""Plain-text helpers shared by the things that write XML: the RSS feed, the
Word export and the Excel download."""

import re

# XML 1.0 has no place for C0 control characters other than tab and newlines;
# one pasted into a title would make the whole document fail to build.
XML_UNFIT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xml_fit(text: str) -> str:
    """`text` without the characters XML cannot carry."""
    return XML_UNFIT.sub("", text)
