"""enqueue's 400 answer (RFC 9457 problem+json), worded in Spanish for the user.

enqueue names each bad field by its path in the request (``lines[2].unit_price``)
and a stable rule id (``max-decimals``) with an English message. The user sees
the field in Odoo's terms ("Línea 3 · precio unitario"), what is wrong in
Spanish, and enqueue's own wording as technical detail.
"""

import re

SECTIONS = {
    "document": "Documento",
    "issuer": "Empresa",
    "receiver": "Cliente",
    "lines": "Línea",
    "global_adjustments": "Descuento global",
    "references": "Referencia",
    "totals": "Totales",
    "odoo": "Odoo",
}

FIELDS = {
    "type": "tipo de documento",
    "folio": "folio",
    "issue_date": "fecha de emisión",
    "payment_form": "forma de pago",
    "due_date": "fecha de vencimiento",
    "transfer_type": "tipo de traslado",
    "dispatch_type": "tipo de despacho",
    "rut": "RUT",
    "name": "nombre",
    "activity": "giro",
    "acteco": "códigos de actividad (ACTECO)",
    "address": "dirección",
    "commune": "comuna",
    "city": "ciudad",
    "email": "correo electrónico",
    "phone": "teléfono",
    "contact": "contacto",
    "branch_code": "código de sucursal SII",
    "sii_resolution": "resolución del SII",
    "number": "número",
    "date": "fecha",
    "code": "código",
    "description": "descripción",
    "quantity": "cantidad",
    "unit": "unidad",
    "unit_price": "precio unitario",
    "discount_percent": "descuento (%)",
    "discount_amount": "descuento ($)",
    "exempt": "exento",
    "amount": "monto",
    "kind": "tipo",
    "value_type": "tipo de valor",
    "value": "valor",
    "reason": "razón",
    "net": "neto",
    "exempt_total": "exento",
    "vat_rate": "tasa de IVA",
    "vat": "IVA",
    "total": "total",
    "database": "base de datos",
    "move_id": "asiento",
}

RULES = {
    "required": "es obligatorio y falta",
    "unknown-field": "no es un campo de la solicitud",
    "type": "tiene un tipo de dato incorrecto",
    "enum": "tiene un valor no permitido",
    "min-length": "es demasiado corto",
    "max-length": "es más largo de lo que admite el SII",
    "rut-format": "no es un RUT válido (formato 76086428-5)",
    "rut-check-digit": "tiene un dígito verificador incorrecto",
    "date": "no es una fecha válida",
    "date-order": "tiene una fecha fuera de orden",
    "iso-8859-1": "contiene caracteres que el SII no acepta",
    "max-decimals": "tiene más decimales de los que admite el SII",
    "maximum": "supera el máximo permitido",
    "minimum": "es menor que el mínimo permitido",
    "min-items": "tiene menos elementos de los necesarios",
    "max-items": "tiene más elementos de los que admite el SII",
    "line-amount": "no cuadra con cantidad × precio − descuento",
    "discount-amount": "no cuadra con el porcentaje de descuento",
    "totals-net": "no cuadra con la suma de las líneas afectas",
    "totals-vat": "no es el 19 % del neto",
    "totals-exempt": "no cuadra con la suma de las líneas exentas",
    "totals-sum": "no es neto + IVA + exento",
    "totals-negative": "los descuentos superan los montos",
    "no-vat": "debe ser 0 en una factura exenta",
    "not-allowed": "no corresponde a este tipo de documento",
    "folio": "debe ser un número",
    "requires-price": "requiere cantidad y precio",
    "clp-integer": "debe ser un monto entero en pesos",
    "json-syntax": "la solicitud no es JSON válido",
    "duplicate-key": "aparece dos veces en la solicitud",
    "json-depth": "la solicitud tiene demasiados niveles anidados",
    "pattern": "tiene un formato inválido",
    "schema": "no cumple el formato de la solicitud",
}

_STEP = re.compile(r"([A-Za-z_]+)|\[(\d+)\]")


def field_label(path):
    """'lines[2].unit_price' -> 'Línea 3 · precio unitario'."""
    if not path or path == "(request)":
        return "Solicitud"
    parts, section = [], None
    for name, index in _STEP.findall(path):
        if index:
            if parts:
                parts[-1] = f"{parts[-1]} {int(index) + 1}"
            continue
        if section is None:
            section = name
            parts.append(SECTIONS.get(name, name))
        else:
            key = "exempt_total" if section == "totals" and name == "exempt" else name
            parts.append(FIELDS.get(key, name))
    return " · ".join(parts) if parts else path


def spanish_errors(problem):
    """One Spanish line per field error of a problem+json document."""
    if not isinstance(problem, dict):
        return ["El servicio de envío rechazó la solicitud sin detallar el motivo."]
    errors = problem.get("errors") or []
    lines = []
    for err in errors:
        if not isinstance(err, dict):
            continue
        label = field_label(str(err.get("field") or ""))
        rule = str(err.get("rule") or "")
        text = RULES.get(rule, "no es válido")
        detail = str(err.get("message") or "").strip()
        lines.append(f"{label}: {text}" + (f" (detalle: {detail})" if detail else ""))
    if not lines:
        detail = str(problem.get("detail") or problem.get("title") or "").strip()
        lines.append("La solicitud no es válida" + (f" (detalle: {detail})" if detail else "") + ".")
    return lines
