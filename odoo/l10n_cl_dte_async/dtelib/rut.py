"""Chilean RUT: normalisation to the SII's form and the módulo-11 check.

The SII (and the request schema) writes a RUT as digits, a hyphen and the
check digit, without dots or leading zeros and with an upper-case K:
``76086428-5``. l10n_cl stores partner VATs that way when the partner is
Chilean, but users also type ``76.086.428-5``, ``CL760864285`` or ``76086428k``
on partners that l10n_cl does not normalise; all of those are accepted here.
"""

import re


class RutError(ValueError):
    """A text that is not a valid RUT. ``kind`` is 'missing', 'format' or 'check'."""

    def __init__(self, kind, value, expected=None):
        self.kind = kind
        self.value = value
        self.expected = expected
        super().__init__(f"{kind}: {value!r}")


def check_digit(number):
    """The módulo-11 check digit of a RUT body: '0'..'9' or 'K'."""
    total, factor = 0, 2
    n = int(number)
    while n > 0:
        total += (n % 10) * factor
        n //= 10
        factor = 2 if factor == 7 else factor + 1
    rest = 11 - total % 11
    if rest == 11:
        return "0"
    if rest == 10:
        return "K"
    return str(rest)


_CLEAN = re.compile(r"[\s.]")


def normalize(value):
    """Return ``value`` as the SII writes a RUT, or raise RutError."""
    if value is None or value is False or not str(value).strip():
        raise RutError("missing", value)
    text = _CLEAN.sub("", str(value)).upper()
    if text.startswith("CL"):
        text = text[2:]
    if text.count("-") > 1:
        raise RutError("format", value)
    if "-" in text:
        body, dv = text.split("-")
    else:
        body, dv = text[:-1], text[-1:]
    body = body.lstrip("0")
    if not body or not body.isdigit() or len(body) > 8 or len(dv) != 1 or dv not in "0123456789K":
        raise RutError("format", value)
    expected = check_digit(int(body))
    if dv != expected:
        raise RutError("check", value, expected)
    return f"{body}-{dv}"


def is_valid(value):
    """True when ``value`` normalises to a valid RUT."""
    try:
        normalize(value)
    except RutError:
        return False
    return True
