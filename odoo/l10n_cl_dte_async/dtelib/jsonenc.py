"""The JSON encoding of a DTE request, byte for byte.

The body that is signed is the body that is sent, so the encoding is fixed:
UTF-8, no insignificant white space, keys in insertion order, and decimal
numbers written exactly (``Decimal`` in plain notation: 2.5, 12990.5,
45990.333333), never through binary floating point. Floats are refused so that
an amount can not slip in unrounded.
"""

import json
from decimal import Decimal

from . import decimals


def _encode(value, out):
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Decimal):
        out.append(decimals.plain(value))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, got {key!r}")
            if not first:
                out.append(",")
            first = False
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif isinstance(value, float):
        raise TypeError("floats are not encoded; use Decimal for exact numbers")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(value):
    """Encode ``value`` as compact UTF-8 JSON bytes."""
    out = []
    _encode(value, out)
    return "".join(out).encode("utf-8")
