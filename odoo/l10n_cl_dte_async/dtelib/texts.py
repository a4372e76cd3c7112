"""Texts the SII can carry: ISO-8859-1, no control characters, bounded length.

Odoo texts are Unicode and unbounded. The request schema only accepts
ISO-8859-1 characters (tab and new line aside, no control characters) and
fixes a maximum length per field. Long texts are cut to the limit rather than
refused; characters outside ISO-8859-1 are replaced by their closest
ISO-8859-1 spelling (curly quotes -> straight quotes, dashes -> hyphen,
accented letters of other alphabets -> their base letter) and, when there is
none, by ``?``. Amounts are never touched here.
"""

import unicodedata

_REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u20ac": "EUR", "\u2022": "-",
    "\u2122": "TM", "\u2116": "No",
    "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0152": "OE", "\u0153": "oe",
    "\u0131": "i", "\u0126": "H", "\u0127": "h",
    "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "",
    "\u2028": " ", "\u2029": " ",
}


def _latin1_char(ch):
    """The ISO-8859-1 spelling of one character outside ISO-8859-1."""
    if ch in _REPLACEMENTS:
        return _REPLACEMENTS[ch]
    decomposed = unicodedata.normalize("NFKD", ch)
    kept = "".join(c for c in decomposed if ord(c) <= 0xFF and not unicodedata.combining(c))
    kept = "".join(c for c in kept if ord(c) >= 0x20 and not 0x7F <= ord(c) <= 0x9F)
    return kept or "?"


def latin1(text, multiline=False):
    """Return ``text`` with only characters the SII accepts.

    Single-line fields get every run of white space (new lines included)
    collapsed to one space; multi-line fields keep their new lines.
    """
    if not text:
        return ""
    out = []
    for ch in str(text):
        code = ord(ch)
        if ch in "\t\n\r":
            out.append(ch if multiline else " ")
        elif code < 0x20 or 0x7F <= code <= 0x9F:
            continue  # control characters are not text
        elif code <= 0xFF:
            out.append(ch)
        else:
            out.append(_latin1_char(ch))
    result = "".join(out)
    if multiline:
        lines = [" ".join(line.split()) for line in result.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
        return "\n".join(lines).strip()
    return " ".join(result.split())


def clip(text, limit):
    """Cut ``text`` to at most ``limit`` characters (no trailing blanks)."""
    if len(text) <= limit:
        return text
    return text[:limit].rstrip()


def field(text, limit, multiline=False):
    """Sanitise and cut a text for a request field; '' when nothing is left."""
    return clip(latin1(text, multiline=multiline), limit)


def is_latin1(text):
    """True when every character is allowed by the schema's text pattern."""
    for ch in text:
        code = ord(ch)
        if ch in "\t\n\r":
            continue
        if code < 0x20 or 0x7F <= code <= 0x9F or code > 0xFF:
            return False
    return True
