"""An independent re-statement of the rules enqueue checks beyond the schema.

Written from shared/request/rules.go and amounts.go (RUT check digits, dates,
line arithmetic, totals, ISO-8859-1 text, note references), with its own
arithmetic (fractions, not the addon's Decimal code), so that the addon's
builder is not checked against itself. ``check(request)`` returns a list of
``(field, rule)`` pairs; empty means enqueue would accept the request.
"""

import datetime
from fractions import Fraction

DTE_TYPES = {"33", "34", "39", "41", "43", "46", "52", "56", "61", "110", "111", "112"}


def _frac(value):
    return Fraction(str(value))


def _rhu(x):
    # floor(x + 1/2) for x >= 0, as RoundHalfUp in decimal.go
    return (2 * x.numerator + x.denominator) // (2 * x.denominator)


def _dv(n):
    s, f = 0, 2
    while n:
        s += (n % 10) * f
        n //= 10
        f = 2 if f == 7 else f + 1
    r = 11 - s % 11
    return "0" if r == 11 else "K" if r == 10 else str(r)


def _rut_ok(text):
    body, _, dv = text.partition("-")
    return body.isdigit() and not body.startswith("0") and len(body) <= 8 and _dv(int(body)) == dv


def _date_ok(text):
    try:
        d = datetime.date.fromisoformat(text)
    except (TypeError, ValueError):
        return False
    return 2000 <= d.year <= 2050


def _latin1(text):
    return all(c in "\t\n\r" or (0x20 <= ord(c) <= 0x7E) or (0xA0 <= ord(c) <= 0xFF) for c in text)


def _scale(value):
    """Decimals needed to write value exactly; 99 when it has no finite expansion."""
    den = _frac(value).denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    return max(twos, fives) if den == 1 else 99


def check(req):
    out = []
    doc = req["document"]
    typ = doc["type"]
    for field, value in (("issuer.rut", req["issuer"]["rut"]), ("receiver.rut", req["receiver"]["rut"])):
        if not _rut_ok(value):
            out.append((field, "rut"))
    for field, value in (("document.issue_date", doc.get("issue_date")),
                         ("document.due_date", doc.get("due_date")),
                         ("issuer.sii_resolution.date", req["issuer"]["sii_resolution"]["date"])):
        if value is not None and not _date_ok(value):
            out.append((field, "date"))
    if typ == 52:
        if not doc.get("transfer_type"):
            out.append(("document.transfer_type", "required"))
    else:
        if doc.get("transfer_type") or doc.get("dispatch_type"):
            out.append(("document.transfer_type", "not-allowed"))
        if doc.get("due_date") and doc["due_date"] < doc["issue_date"]:
            out.append(("document.due_date", "date-order"))
        for key in ("activity", "address", "commune"):
            if not req["receiver"].get(key):
                out.append((f"receiver.{key}", "required"))
    # texts
    def texts(prefix, obj):
        for key, value in obj.items():
            if isinstance(value, str) and not _latin1(value):
                out.append((f"{prefix}.{key}", "iso-8859-1"))
    texts("issuer", req["issuer"])
    texts("receiver", req["receiver"])
    for i, line in enumerate(req["lines"]):
        texts(f"lines[{i}]", line)
    # references
    refs = req.get("references", [])
    for i, ref in enumerate(refs):
        if not _date_ok(ref["date"]):
            out.append((f"references[{i}].date", "date"))
        elif ref["date"] > doc["issue_date"]:
            out.append((f"references[{i}].date", "date-order"))
    if typ in (56, 61):
        dte_refs = [r for r in refs if r["type"] in DTE_TYPES]
        if not dte_refs:
            out.append(("references", "required"))
        for r in dte_refs:
            if not r.get("code"):
                out.append(("references.code", "required"))
            if not r["folio"].isdigit():
                out.append(("references.folio", "folio"))
    # lines
    affected = exempt = 0
    for i, line in enumerate(req["lines"]):
        p = f"lines[{i}]"
        for key, max_scale in (("quantity", 6), ("unit_price", 6), ("discount_percent", 2)):
            if key in line and _scale(line[key]) > max_scale:
                out.append((f"{p}.{key}", "max-decimals"))
        if "unit_price" in line and "quantity" not in line:
            out.append((f"{p}.quantity", "required"))
        if "quantity" in line and "unit_price" in line:
            prod = _frac(line["quantity"]) * _frac(line["unit_price"])
            gross = _rhu(prod)
            pd = _rhu(prod * _frac(line["discount_percent"]) / 100) if "discount_percent" in line else None
            given = line.get("discount_amount", 0)
            if pd is not None and given and pd != given:
                out.append((f"{p}.discount_amount", "discount-amount"))
            disc = given if given else (pd or 0)
            if disc > gross:
                out.append((f"{p}.discount_amount", "discount-amount"))
            if line["amount"] != gross - disc:
                out.append((f"{p}.amount", "line-amount"))
        if line.get("exempt") or typ == 34:
            exempt += line["amount"]
        else:
            affected += line["amount"]
    base_affected, base_exempt = affected, exempt
    for adj in req.get("global_adjustments", []):
        on_exempt = adj.get("exempt") or typ == 34
        base = base_exempt if on_exempt else base_affected
        if adj["value_type"] == "%":
            amount = _rhu(Fraction(base) * _frac(adj["value"]) / 100)
        else:
            amount = _rhu(_frac(adj["value"]))
        sign = -1 if adj["kind"] == "discount" else 1
        if on_exempt:
            exempt += sign * amount
        else:
            affected += sign * amount
    vat = 0 if typ == 34 else _rhu(Fraction(affected) * 19 / 100)
    t = req["totals"]
    if typ == 34:
        if t["net"] or t["vat"]:
            out.append(("totals", "no-vat"))
    else:
        if t["net"] != affected:
            out.append(("totals.net", "totals-net"))
        if t["vat"] != vat:
            out.append(("totals.vat", "totals-vat"))
    if t["exempt"] != exempt:
        out.append(("totals.exempt", "totals-exempt"))
    if t["total"] != t["net"] + t["vat"] + t["exempt"]:
        out.append(("totals.total", "totals-sum"))
    return out
