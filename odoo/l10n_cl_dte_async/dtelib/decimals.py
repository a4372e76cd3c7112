"""Exact decimal arithmetic for SII amounts.

Odoo hands out quantities, prices and subtotals as Python floats. They are
turned into ``Decimal`` through ``repr`` (the shortest text that reads back as
the same float, i.e. the value Odoo stored with its decimal precision), and
every product is computed in a context wide enough that nothing is rounded
before the one rounding the SII prescribes: half up, to whole pesos.
"""

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

# Wide enough for 12 integer + 6 decimal digits times the same, times 100.
_PRECISION = 80


class DecimalError(ValueError):
    """A value that is not a finite decimal number."""


def to_decimal(value):
    """Return ``value`` (int, float, str or Decimal) as a finite Decimal."""
    if isinstance(value, bool) or value is None:
        raise DecimalError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise DecimalError(f"not a finite number: {value!r}")
        d = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            raise DecimalError(f"not a number: {value!r}") from None
    else:
        raise DecimalError(f"not a number: {value!r}")
    if not d.is_finite():
        raise DecimalError(f"not a finite number: {value!r}")
    return d


def scale(d):
    """Number of decimal places needed to write ``d`` exactly (0 for integers)."""
    exponent = d.normalize().as_tuple().exponent
    return max(0, -exponent)


def integer_digits(d):
    """Number of digits before the decimal point (at least 1)."""
    q = int(abs(d))
    return len(str(q)) if q else 1


def mul(*factors):
    """Exact product of Decimals."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        out = Decimal(1)
        for f in factors:
            out = out * f
        return out


def div(a, b):
    """Quotient of Decimals at high precision (used only for / 100)."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return a / b


def round_half_up(d):
    """Round a Decimal to the nearest integer, halves away from zero, as int."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return int(d.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def plain(d):
    """Write ``d`` in plain notation without trailing zeros: 2, 0.5, 1500.25."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        text = format(d.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text


def is_integral(d):
    """True when ``d`` has no fractional part."""
    return d == d.to_integral_value()
