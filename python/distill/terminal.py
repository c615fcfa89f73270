"""What reaches the terminal from the data: plain text, never markup, with control characters
shown escaped, so a hostile value can neither break the output nor drive the terminal."""

import re

from rich.text import Text

# C0 and C1 control characters, DEL, and the Unicode bidirectional overrides that reorder text
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_NEWLINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def printable(value: object, keep_newlines: bool = False) -> str:
    """The value as text with every control character escaped (newlines and tabs kept when asked)."""
    return (_CONTROL if keep_newlines else _CONTROL_OR_NEWLINE).sub(_escape, str(value))


def cell(value: object) -> Text:
    """A table cell or header that rich shows as it is, never as markup."""
    return Text("NULL" if value is None else printable(value))
