"""How a feed's odd values are written in the reasons a record was skipped or changed, and how any failure to
read one record becomes a reason, not a failed poll.

A feed is input from elsewhere: a value may be a list nested a thousand deep (its repr raises RecursionError),
an integer of 400 digits (`f"{n:.3g}"` raises OverflowError, `str(n)` past 4,300 digits ValueError) or anything
else JSON can hold. The reasons quote what the feed sent when it is short text or a number, and name its kind
otherwise."""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, TypeVar

Read = TypeVar("Read", bound=Callable[..., Any])

# Characters of a text value quoted in a reason.
QUOTED_CHARACTERS = 40
# Integers quoted as written: up to 2**133, 40 digits.
EXACT_INTEGER_BITS = 133


def shown(value: Any) -> str:
    """`value` for a reason: a text's first QUOTED_CHARACTERS characters quoted ('broken'; a lone surrogate as
    U+FFFD), an integer of up to 40 digits as written, another number as `number` writes it, true/false/null
    as JSON writes them, and "a list" / "an object" for the rest."""
    if isinstance(value, str):
        return repr("".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value[:QUOTED_CHARACTERS]))
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int) and value.bit_length() <= EXACT_INTEGER_BITS:
        return str(value)
    if isinstance(value, (int, float)):
        return number(value)
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else "a value"


def number(value: int | float) -> str:
    """A number to three figures (`1e+30`, `5e+09`, `2.5`), or by its size past a double's range (an integer
    over 1e308: `a 400-digit number`)."""
    try:
        return f"{value:.3g}"
    except OverflowError:  # only an int is past a double's range
        return f"a {int(int(value).bit_length() * math.log10(2)) + 1}-digit number"


def unexpected_as(error: type[Exception]) -> Callable[[Read], Read]:
    """Decorates a reader of one record: what it raises besides `error` (a bug, or a value no check foresaw) is
    raised as `error("could not be read (TypeName)")`, so that the record is skipped with a reason instead of
    failing the whole poll."""

    def wrap(read: Read) -> Read:
        @functools.wraps(read)
        def reading(*args: Any, **kwargs: Any) -> Any:
            try:
                return read(*args, **kwargs)
            except error:
                raise
            except Exception as exc:
                raise error(f"could not be read ({type(exc).__name__})") from None

        return reading  # type: ignore[return-value]

    return wrap
