"""Build the DTE request (shared/request/dte-request.schema.json) from plain data.

The input is a *plain invoice*: a dict of plain values that the Odoo model
extracts from an ``account.move`` (``AccountMove._dte_async_plain_invoice``)
and that the fixtures under ``odoo/plain_tests/fixtures`` spell out by hand::

    {
      "database": "odoo", "move_id": 501,
      "document_type": "33", "folio": "001042",
      "invoice_date": "2026-11-27", "due_date": "2026-12-27", "currency": "CLP",
      "transfer_type": null, "dispatch_type": null,          # 52 only
      "company": {"rut", "name", "activity", "acteco", "street", "street2",
                  "commune", "city", "email", "phone",
                  "sii_resolution_number", "sii_resolution_date"},
      "partner": {"rut", "name", "activity", "street", "street2", "commune",
                  "city", "email", "contact", "exchange_email"},
      "lines": [{"product_code", "product_name", "name", "quantity", "uom",
                 "price_unit", "discount", "subtotal",
                 "taxes": [{"name", "sii_code", "amount", "amount_type",
                            "price_include"}]}],
      "origin": {"document_type", "folio", "date", "code", "reason"},  # 56, 61
      "references": [{"type", "folio", "date", "code", "reason"}],    # extra
      "odoo_totals": {"untaxed", "tax", "total"}                       # checked
    }

Numbers may be int, float (as Odoo gives them), str or Decimal.

Amounts follow the SII's rules exactly, as the Go validator checks them:
line amount = round_half_up(qty × price) − discount, discount =
round_half_up(qty × price × pct / 100); net = Σ affected lines after global
adjustments; VAT = round_half_up(net × 19 / 100); total = net + VAT + exempt.
When Odoo's own figures (line subtotals, untaxed/tax/total) are given they
must come out the same: a line whose Odoo subtotal differs from the percent
rule is sent with the discount in pesos that reproduces Odoo's subtotal, and
any other difference is refused with an explanation. Amounts are never
adjusted to fit; texts are sanitised and cut to the schema's lengths.

Every problem found is collected and reported at once, in Spanish, through
``BuildError``.
"""

import datetime
import re

from . import decimals, rut, texts

DOC_TYPES = (33, 34, 52, 56, 61)
NOTE_TYPES = (56, 61)
VAT_RATE = 19
VAT_SII_CODE = 14
MAX_LINES = 60
MAX_ADJUSTMENTS = 20
MAX_REFERENCES = 40
# Document types the SII treats as DTEs in a Referencia (mirrors shared/request).
DTE_REFERENCE_TYPES = {"33", "34", "39", "41", "43", "46", "52", "56", "61", "110", "111", "112"}

DOC_NAMES = {
    33: "factura electrónica (33)",
    34: "factura exenta electrónica (34)",
    52: "guía de despacho electrónica (52)",
    56: "nota de débito electrónica (56)",
    61: "nota de crédito electrónica (61)",
}
REFERENCE_REASONS = {
    1: "Anula documento",
    2: "Corrige texto",
    3: "Corrige montos",
}
# Common Odoo units of measure and the short unit the SII prints (UnmdItem, 4 chars).
UNIT_NAMES = {
    "units": "UN", "unit": "UN", "unidades": "UN", "unidad": "UN", "unit(s)": "UN",
    "dozens": "DOC", "docenas": "DOC", "hours": "HR", "horas": "HR", "days": "DIA",
    "días": "DIA", "dias": "DIA", "kg": "KG", "g": "G", "l": "L", "m": "M",
    "km": "KM", "m²": "M2", "m3": "M3", "m³": "M3",
}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BuildError(ValueError):
    """The invoice cannot become a valid request; ``problems`` lists why (Spanish)."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class _Problems:
    def __init__(self):
        self.items = []

    def add(self, text):
        if text not in self.items:
            self.items.append(text)


# ---------------------------------------------------------------------------
# small readers
# ---------------------------------------------------------------------------

def _get(mapping, key, default=None):
    if not isinstance(mapping, dict):
        return default
    value = mapping.get(key, default)
    return default if value is False else value


def _date(value, what, problems, required=True):
    """An ISO date between 2000 and 2050, as text; None when absent/invalid."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        value = value.isoformat()
    if value in (None, ""):
        if required:
            problems.add(f"Falta {what}.")
        return None
    text = str(value)[:10]
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        parsed = datetime.date.fromisoformat(text)
    except ValueError:
        problems.add(f"{what[0].upper()}{what[1:]} «{value}» no es una fecha válida (AAAA-MM-DD).")
        return None
    if not 2000 <= parsed.year <= 2050:
        problems.add(f"{what[0].upper()}{what[1:]} ({text}) está fuera del rango que acepta el SII (2000 a 2050).")
        return None
    return text


def _int(value, what, problems, low, high, required=True):
    if value in (None, ""):
        if required:
            problems.add(f"Falta {what}.")
        return None
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        d = decimals.to_decimal(value)
        if not decimals.is_integral(d):
            raise ValueError(value)
        number = int(d)
    except (ValueError, decimals.DecimalError):
        problems.add(f"{what[0].upper()}{what[1:]} «{value}» no es un número entero.")
        return None
    if not low <= number <= high:
        problems.add(f"{what[0].upper()}{what[1:]} ({number}) debe estar entre {low} y {high}.")
        return None
    return number


def _rut(value, owner, problems):
    """Normalised RUT of ``owner`` (a phrase such as 'la empresa'), or None."""
    try:
        return rut.normalize(value)
    except rut.RutError as err:
        if err.kind == "missing":
            problems.add(f"{owner[0].upper()}{owner[1:]} no tiene RUT.")
        elif err.kind == "check":
            problems.add(f"El RUT de {owner} ({value}) tiene un dígito verificador incorrecto (debería terminar en {err.expected}).")
        else:
            problems.add(f"El RUT de {owner} ({value}) no tiene el formato de un RUT (por ejemplo 76086428-5).")
        return None


def parse_acteco(value):
    """ACTECO codes from '476101, 741000' or a list; raises ValueError (Spanish)."""
    if value in (None, False, ""):
        return []
    if isinstance(value, (list, tuple)):
        parts = [str(v).strip() for v in value]
    else:
        parts = [p.strip() for p in re.split(r"[,;\s]+", str(value)) if p.strip()]
    codes = []
    for part in parts:
        if not part.isdigit() or not 1 <= int(part) <= 999999:
            raise ValueError(f"«{part}» no es un código de actividad económica (ACTECO) válido: debe ser un número de hasta 6 dígitos.")
        if int(part) not in codes:
            codes.append(int(part))
    if len(codes) > 4:
        raise ValueError(f"El SII admite a lo más 4 códigos de actividad económica (ACTECO); hay {len(codes)}.")
    return codes


def _address(street, street2):
    parts = [p for p in (street, street2) if p]
    return ", ".join(str(p) for p in parts)


def _unit(name):
    if not name:
        return ""
    key = " ".join(str(name).split()).lower()
    if key in UNIT_NAMES:
        return UNIT_NAMES[key]
    return texts.field(name, 4)


def classify_taxes(taxes, where, problems):
    """'vat' for a line with 19% IVA, 'exempt' for one without; problems otherwise."""
    vat = []
    for tax in taxes or []:
        name = _get(tax, "name") or "?"
        code = _get(tax, "sii_code")
        try:
            amount = decimals.to_decimal(_get(tax, "amount", 0) or 0)
        except decimals.DecimalError:
            problems.add(f"{where}: el impuesto «{name}» tiene un monto que no es un número.")
            continue
        amount_type = _get(tax, "amount_type") or "percent"
        is_vat = (code in (VAT_SII_CODE, str(VAT_SII_CODE))) or (
            not code and amount_type == "percent" and amount == VAT_RATE)
        if is_vat:
            if amount_type != "percent" or amount != VAT_RATE:
                problems.add(f"{where}: el IVA «{name}» debe ser de {VAT_RATE} %.")
            elif _get(tax, "price_include"):
                problems.add(f"{where}: el impuesto «{name}» está incluido en el precio; el DTE se emite con precios netos, use un IVA 19 % no incluido en el precio.")
            vat.append(tax)
        elif amount == 0:
            continue  # an exempt marker tax (0 %)
        else:
            problems.add(f"{where}: el impuesto «{name}» no está soportado por este envío (solo IVA 19 % o líneas exentas).")
    if len(vat) > 1:
        problems.add(f"{where}: tiene más de un IVA.")
    return "vat" if vat else "exempt"


# ---------------------------------------------------------------------------
# lines
# ---------------------------------------------------------------------------

def _number(raw, key, where, label, problems, default="0"):
    value = _get(raw, key)
    if value in (None, ""):
        value = default
    try:
        return decimals.to_decimal(value)
    except decimals.DecimalError:
        problems.add(f"{where}: {label} «{value}» no es un número.")
        return None


def _check_decimal(d, where, label, max_scale, problems):
    if decimals.scale(d) > max_scale:
        problems.add(f"{where}: {label} {decimals.plain(d)} tiene más de {max_scale} decimales (el SII admite {max_scale}).")
        return False
    if decimals.integer_digits(d) > 12:
        problems.add(f"{where}: {label} {decimals.plain(d)} supera los 12 dígitos enteros que admite el SII.")
        return False
    return True


def _line_texts(raw):
    """(code, NmbItem, DscItem) of a line, sanitised and cut to the SII's lengths."""
    raw_code = str(_get(raw, "product_code") or "").strip()
    label = str(_get(raw, "name") or "").strip()
    if raw_code and label.startswith(f"[{raw_code}]"):
        label = label[len(raw_code) + 2:].strip()
    product = str(_get(raw, "product_name") or "").strip()
    first, _, rest = label.partition("\n")
    if product:
        name = product
        description = rest if texts.latin1(first) == texts.latin1(product) else label
    else:
        name, description = first, rest
    return (texts.field(raw_code, 35), texts.field(name, 80),
            texts.field(description, 1000, multiline=True))


def _build_line(index, raw, doc_type, problems):
    """Return ('detail', line, exempt) or ('adjustment', adjustment, exempt) or None."""
    code, name, description = _line_texts(raw)
    where = f"Línea {index + 1}" + (f" («{name}»)" if name else "")
    if not name:
        problems.add(f"{where}: no tiene nombre ni producto.")
    kind = classify_taxes(_get(raw, "taxes"), where, problems)
    exempt = kind == "exempt"
    if doc_type == 34 and not exempt:
        problems.add(f"{where}: una factura exenta (34) no puede tener líneas afectas a IVA; quite el IVA de la línea o use una factura 33.")
    qty = _number(raw, "quantity", where, "la cantidad", problems)
    price = _number(raw, "price_unit", where, "el precio unitario", problems)
    pct = _number(raw, "discount", where, "el descuento", problems)
    sub = None
    if _get(raw, "subtotal") not in (None, ""):
        sub = _number(raw, "subtotal", where, "el subtotal", problems)
        if sub is not None and not decimals.is_integral(sub):
            problems.add(f"{where}: el subtotal {decimals.plain(sub)} no es un monto entero en pesos.")
            sub = None
    if qty is None or price is None or pct is None:
        return None
    if pct < 0 or pct > 100:
        problems.add(f"{where}: el descuento de {decimals.plain(pct)} % debe estar entre 0 y 100.")
        return None

    product = decimals.mul(qty, price)
    if product < 0 or (sub is not None and sub < 0):
        # A negative line is a global discount on the affected (or exempt) amount.
        if sub is not None:
            value = -int(sub)
        else:
            value = decimals.round_half_up(decimals.mul(-product, 1 - decimals.div(pct, 100)))
        if value <= 0:
            line = {"name": name or "-", "amount": 0}
            return ("detail", line, exempt)
        adjustment = {"kind": "discount"}
        label = texts.field(name, 45)
        if label:
            adjustment["description"] = label
        adjustment.update({"value_type": "$", "value": value})
        if exempt and doc_type != 34:
            adjustment["exempt"] = True
        return ("adjustment", adjustment, exempt)
    if qty < 0:  # negative quantity and negative price: a positive line
        qty, price = -qty, -price

    line = {}
    if code:
        line["code"] = code
    line["name"] = name or "-"
    if description:
        line["description"] = description
    unit = _unit(_get(raw, "uom"))
    if qty == 0:
        if sub not in (None, 0):
            problems.add(f"{where}: tiene cantidad 0 pero un subtotal de {int(sub)}.")
        if exempt and doc_type != 34:
            line["exempt"] = True
        line["amount"] = 0
        return ("detail", line, exempt)
    ok = _check_decimal(qty, where, "la cantidad", 6, problems)
    ok = _check_decimal(price, where, "el precio unitario", 6, problems) and ok
    if not ok:
        return None
    gross = decimals.round_half_up(product)
    line["quantity"] = qty
    if unit:
        line["unit"] = unit
    line["unit_price"] = price
    if pct == 0:
        amount = gross
        if sub is not None and int(sub) != gross:
            problems.add(
                f"{where}: el subtotal de Odoo ({int(sub)}) no coincide con cantidad × precio "
                f"({decimals.plain(qty)} × {decimals.plain(price)} = {gross}, redondeado)."
            )
            return None
    else:
        percent_discount = decimals.round_half_up(decimals.div(decimals.mul(product, pct), 100))
        by_percent = gross - percent_discount
        if sub is None or int(sub) == by_percent:
            if decimals.scale(pct) <= 2:
                line["discount_percent"] = pct
            if percent_discount > 0:
                line["discount_amount"] = percent_discount
            amount = by_percent
        else:
            # Odoo rounded the discounted line as a whole; state the discount in
            # pesos so that the line amount is exactly Odoo's subtotal.
            discount = gross - int(sub)
            if not 0 <= discount <= gross:
                problems.add(
                    f"{where}: el subtotal de Odoo ({int(sub)}) no puede expresarse como "
                    f"cantidad × precio ({gross}) menos un descuento."
                )
                return None
            if discount:
                line["discount_amount"] = discount
            amount = int(sub)
    if exempt and doc_type != 34:
        line["exempt"] = True
    line["amount"] = amount
    return ("detail", line, exempt)


# ---------------------------------------------------------------------------
# the request
# ---------------------------------------------------------------------------

def _issuer(company, problems):
    issuer = {"rut": _rut(_get(company, "rut"), "la empresa", problems)}
    name = texts.field(_get(company, "name") or "", 100)
    if not name:
        problems.add("La empresa no tiene nombre (razón social).")
    issuer["name"] = name
    activity = texts.field(_get(company, "activity") or "", 80)
    if not activity:
        problems.add("La empresa no tiene giro: complete la «Descripción de actividad» del contacto de la empresa.")
    issuer["activity"] = activity
    try:
        acteco = parse_acteco(_get(company, "acteco"))
    except ValueError as err:
        problems.add(str(err))
        acteco = []
    else:
        if not acteco:
            problems.add("Configure los códigos de actividad económica (ACTECO) de la empresa en Ajustes › Contabilidad › DTE asíncrono.")
    issuer["acteco"] = acteco
    address = texts.field(_address(_get(company, "street"), _get(company, "street2")), 70)
    if not address:
        problems.add("La empresa no tiene dirección (calle).")
    issuer["address"] = address
    commune = texts.field(_get(company, "commune") or "", 20)
    if not commune:
        problems.add("La empresa no tiene comuna (campo «Ciudad» de su dirección).")
    issuer["commune"] = commune
    for key, limit in (("city", 20), ("email", 80), ("phone", 20)):
        value = texts.field(_get(company, key) or "", limit)
        if value:
            issuer[key] = value
    number = _int(_get(company, "sii_resolution_number"), "el número de resolución del SII (use 0 en certificación; Ajustes)", problems, 0, 999999)
    date = _date(_get(company, "sii_resolution_date"), "la fecha de resolución del SII (Ajustes)", problems)
    issuer["sii_resolution"] = {"number": number if number is not None else 0, "date": date or ""}
    return issuer


def _receiver(partner, doc_type, problems):
    name = texts.field(_get(partner, "name") or "", 100)
    owner = f"el cliente «{name}»" if name else "el cliente"
    who = owner[0].upper() + owner[1:]
    receiver = {"rut": _rut(_get(partner, "rut"), owner, problems)}
    if not name:
        problems.add("El cliente no tiene nombre (razón social).")
    receiver["name"] = name
    required = doc_type != 52
    fields = (
        ("activity", texts.field(_get(partner, "activity") or "", 40),
         f"{who} no tiene giro: complete su «Descripción de actividad»."),
        ("address", texts.field(_address(_get(partner, "street"), _get(partner, "street2")), 70),
         f"{who} no tiene dirección (calle)."),
        ("commune", texts.field(_get(partner, "commune") or "", 20),
         f"{who} no tiene comuna (campo «Ciudad» de su dirección)."),
    )
    for key, value, missing in fields:
        if value:
            receiver[key] = value
        elif required:
            problems.add(missing)
    for key, limit in (("city", 20), ("contact", 80), ("email", 80)):
        value = texts.field(_get(partner, key) or "", limit)
        if value:
            receiver[key] = value
    exchange = str(_get(partner, "exchange_email") or "").strip()
    if exchange:
        if is_exchange_email(exchange):
            receiver["exchange_email"] = exchange
        else:
            problems.add(f"{who} tiene un «Correo de intercambio DTE» que no es una dirección de correo "
                         f"(nombre@dominio.cl, sin espacios ni nombres): {exchange!r}.")
    return receiver


_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def is_exchange_email(value):
    """One bare e-mail address (local@domain.tld) of at most 80 characters,
    as the request's receiver.exchange_email accepts it."""
    return len(value) <= 80 and bool(_EMAIL.match(value))


def _reference(raw, issue_date, where, problems, note_type=None):
    ref_type = str(_get(raw, "document_type") or _get(raw, "type") or "").strip()
    if not ref_type:
        problems.add(f"{where}: falta el tipo del documento referenciado.")
    elif not re.match(r"^([0-9]{1,3}|[A-Z]{1,3})$", ref_type):
        problems.add(f"{where}: «{ref_type}» no es un tipo de documento del SII.")
    folio_raw = str(_get(raw, "folio") or "").strip()
    folio = folio_raw
    if ref_type in DTE_REFERENCE_TYPES:
        if not folio_raw.isdigit() or int(folio_raw) == 0:
            problems.add(f"{where}: el folio «{folio_raw}» del documento referenciado no es un número.")
        else:
            folio = str(int(folio_raw))
    folio = texts.field(folio, 18)
    if not folio:
        problems.add(f"{where}: falta el folio del documento referenciado.")
    date = _date(_get(raw, "date"), f"la fecha del documento referenciado ({where.lower()})", problems)
    if date and issue_date and date > issue_date:
        problems.add(f"{where}: el documento referenciado ({date}) es posterior a la fecha de emisión ({issue_date}).")
    ref = {"type": ref_type, "folio": folio, "date": date or ""}
    code = _get(raw, "code")
    if code not in (None, ""):
        code = _int(code, f"el código de referencia ({where.lower()})", problems, 1, 3)
        if code:
            ref["code"] = code
    elif note_type and ref_type in DTE_REFERENCE_TYPES:
        problems.add(f"{where}: falta el código de referencia (1 anula, 2 corrige texto, 3 corrige montos).")
    reason = texts.field(_get(raw, "reason") or "", 90)
    if not reason and ref.get("code"):
        reason = REFERENCE_REASONS[ref["code"]]
    if reason:
        ref["reason"] = reason
    return ref


def _check_totals(totals, odoo_totals, problems):
    try:
        untaxed = decimals.to_decimal(_get(odoo_totals, "untaxed"))
        tax = decimals.to_decimal(_get(odoo_totals, "tax"))
        total = decimals.to_decimal(_get(odoo_totals, "total"))
    except decimals.DecimalError:
        problems.add("Los totales de la factura en Odoo no son números.")
        return
    ours = (totals["net"] + totals["exempt"], totals["vat"], totals["total"])
    theirs = (untaxed, tax, total)
    if any(decimals.to_decimal(a) != b for a, b in zip(ours, theirs)):
        problems.add(
            "Los montos calculados con las reglas del SII no coinciden con los de la factura en Odoo: "
            f"neto + exento {ours[0]} frente a {decimals.plain(untaxed)}, "
            f"IVA {ours[1]} frente a {decimals.plain(tax)}, "
            f"total {ours[2]} frente a {decimals.plain(total)}. "
            "El SII calcula el IVA sobre el neto total (redondeo global), no línea por línea: "
            "en Contabilidad › Configuración › Ajustes › Impuestos elija «Redondear globalmente» "
            "y valide la factura de nuevo (si ya estaba validada y no se ha enviado, vuélvala antes a borrador)."
        )


def build_request(invoice):
    """Return the DTE request for ``invoice`` (a plain dict); raise BuildError."""
    problems = _Problems()
    if not isinstance(invoice, dict):
        raise BuildError(["Los datos de la factura no son un objeto."])

    # document
    doc_type = None
    raw_type = _get(invoice, "document_type")
    try:
        doc_type = int(str(raw_type).strip())
    except (TypeError, ValueError):
        pass
    if doc_type not in DOC_TYPES:
        problems.add(
            f"El tipo de documento «{raw_type or 'sin tipo'}» no se emite por este canal "
            "(solo 33, 34, 52, 56 y 61)."
        )
        raise BuildError(problems.items)
    folio_raw = str(_get(invoice, "folio") or "").strip()
    folio = None
    if not folio_raw:
        problems.add("El documento no tiene folio (número de documento).")
    elif not folio_raw.isdigit() or not 1 <= int(folio_raw) <= 9999999999:
        problems.add(f"El folio «{folio_raw}» no es un número entre 1 y 9999999999.")
    else:
        folio = int(folio_raw)
    currency = str(_get(invoice, "currency") or "CLP").upper()
    if currency != "CLP":
        problems.add(f"Solo se emiten documentos en pesos chilenos (CLP); este documento está en {currency}.")
    issue_date = _date(_get(invoice, "invoice_date"), "la fecha de emisión (fecha de factura)", problems)
    document = {"type": doc_type, "folio": folio or 0, "issue_date": issue_date or ""}
    if doc_type in (33, 34):
        due = _date(_get(invoice, "due_date"), "la fecha de vencimiento", problems, required=False)
        if due and issue_date and due > issue_date:
            document["payment_form"] = 2
            document["due_date"] = due
        else:
            document["payment_form"] = 1
    if doc_type == 52:
        transfer = _int(_get(invoice, "transfer_type"), "el tipo de traslado de la guía de despacho (1 a 9)", problems, 1, 9)
        document["transfer_type"] = transfer or 1
        dispatch = _int(_get(invoice, "dispatch_type"), "el tipo de despacho", problems, 1, 3, required=False)
        if dispatch:
            document["dispatch_type"] = dispatch

    issuer = _issuer(_get(invoice, "company") or {}, problems)
    receiver = _receiver(_get(invoice, "partner") or {}, doc_type, problems)

    # lines and global adjustments
    lines, adjustments = [], []
    affected = exempt_sum = 0
    discount_affected = discount_exempt = 0
    raw_lines = _get(invoice, "lines") or []
    for index, raw in enumerate(raw_lines):
        built = _build_line(index, raw if isinstance(raw, dict) else {}, doc_type, problems)
        if built is None:
            continue
        kind, item, exempt = built
        if kind == "detail":
            lines.append(item)
            if exempt or doc_type == 34:
                exempt_sum += item["amount"]
            else:
                affected += item["amount"]
        else:
            adjustments.append(item)
            if exempt or doc_type == 34:
                discount_exempt += item["value"]
            else:
                discount_affected += item["value"]
    if not raw_lines:
        problems.add("El documento no tiene líneas.")
    elif not lines and not problems.items:
        problems.add("El documento no tiene ninguna línea de detalle con monto positivo.")
    if len(lines) > MAX_LINES:
        problems.add(f"El documento tiene {len(lines)} líneas; el SII admite a lo más {MAX_LINES} por DTE.")
    if len(adjustments) > MAX_ADJUSTMENTS:
        problems.add(f"El documento tiene {len(adjustments)} descuentos globales (líneas negativas); el SII admite a lo más {MAX_ADJUSTMENTS}.")

    net = affected - discount_affected
    exempt_total = exempt_sum - discount_exempt
    if net < 0 or exempt_total < 0:
        problems.add("Los descuentos (líneas negativas) superan el monto de las líneas a las que se aplican.")
    if doc_type == 34:
        net = 0
    vat = decimals.round_half_up(decimals.div(decimals.mul(decimals.to_decimal(max(net, 0)), VAT_RATE), 100)) if doc_type != 34 else 0
    totals = {"net": max(net, 0), "exempt": max(exempt_total, 0)}
    if doc_type != 34:
        totals["vat_rate"] = VAT_RATE
    totals["vat"] = vat
    totals["total"] = totals["net"] + totals["exempt"] + vat

    # references
    references = []
    origin = _get(invoice, "origin")
    if doc_type in NOTE_TYPES:
        kind_name = "crédito" if doc_type == 61 else "débito"
        if not origin:
            problems.add(
                f"La nota de {kind_name} debe indicar el documento que modifica: créela desde la factura "
                "original (botón «Nota de crédito» o «Nota de débito»)."
            )
        else:
            ref = _reference(origin, issue_date, "Documento de origen", problems, note_type=doc_type)
            if ref["type"] and ref["type"] not in DTE_REFERENCE_TYPES:
                problems.add(f"El documento de origen es de tipo {ref['type']}, que no es un DTE: una nota de {kind_name} electrónica debe modificar un DTE.")
            references.append(ref)
    for index, raw in enumerate(_get(invoice, "references") or []):
        references.append(_reference(raw, issue_date, f"Referencia {index + 1}", problems))
    if len(references) > MAX_REFERENCES:
        problems.add(f"El documento tiene {len(references)} referencias; el SII admite a lo más {MAX_REFERENCES}.")

    # odoo
    database = str(_get(invoice, "database") or "")
    if not database or len(database) > 63:
        problems.add("Falta el nombre de la base de datos de Odoo (o supera 63 caracteres).")
    move_id = _int(_get(invoice, "move_id"), "el identificador del asiento (move_id)", problems, 1, 2**63 - 1)

    if _get(invoice, "odoo_totals") and not problems.items:
        _check_totals(totals, _get(invoice, "odoo_totals"), problems)
    if problems.items:
        raise BuildError(problems.items)

    request = {"document": document, "issuer": issuer, "receiver": receiver, "lines": lines}
    if adjustments:
        request["global_adjustments"] = adjustments
    if references:
        request["references"] = references
    request["totals"] = totals
    request["odoo"] = {"database": database, "move_id": move_id}
    return request


def dtekey(request):
    """The document's identity: {issuer RUT}-{type}-{folio}."""
    return f"{request['issuer']['rut']}-{request['document']['type']}-{request['document']['folio']}"


def dtekey_for(company_rut, doc_type, folio):
    """dtekey from raw Odoo values; None when they do not make a valid key."""
    try:
        issuer = rut.normalize(company_rut)
        doc = int(str(doc_type).strip())
        number = int(str(folio).strip())
    except (rut.RutError, TypeError, ValueError):
        return None
    if number <= 0 or doc <= 0:
        return None
    return f"{issuer}-{doc}-{number}"
