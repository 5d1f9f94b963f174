"""One helper that checks string options against their ``Literal`` type."""

from __future__ import annotations

from typing import Any, get_args

from .errors import OptionError, closest_matches


def check_option(name: str, value: Any, allowed: Any) -> str:
    """Check that ``value`` is one of the allowed strings.

    Parameters
    ----------
    name
        The argument name, used in the error message.
    value
        The value given by the user.
    allowed
        A ``typing.Literal`` type or an iterable of allowed strings.

    Returns
    -------
    str
        ``value`` unchanged.

    Examples
    --------
    >>> from typing import Literal
    >>> check_option("method", "katz", Literal["katz", "exact"])
    'katz'
    """
    choices = get_args(allowed) or tuple(allowed)
    if value not in choices:
        near = closest_matches(str(value), [str(c) for c in choices])
        hint = f" Did you mean {near[0]!r}?" if near else ""
        raise OptionError(
            f"{name}={value!r} is not allowed; choose one of {', '.join(repr(c) for c in choices)}.{hint}"
        )
    return value
