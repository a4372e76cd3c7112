"""User-facing texts, in Spanish.

The chatter texts record what the SII decided about a Chilean tax document,
so they are written in Spanish whatever the reader's interface language, and
they are computed here (plain, testable) rather than in the Odoo model.
"""

from . import transitions as t

STATUS_LABELS = {
    t.NOT_SENT: "No enviado",
    t.QUEUED: "En cola",
    t.SIGNED: "Firmado",
    t.SENT: "Enviado al SII",
    t.ACCEPTED: "Aceptado",
    t.OBJECTED: "Aceptado con reparos",
    t.REJECTED: "Rechazado",
    t.ERROR: "Error",
    t.RETRYING: "Reintentando",
}


def chatter_text(status, track_id="", sii_state="", message=""):
    """The chatter message for a status the pipeline reported."""
    track_id = (track_id or "").strip()
    sii_state = (sii_state or "").strip()
    message = (message or "").strip()
    if status == t.QUEUED:
        return "En cola para su emisión."
    if status == t.SIGNED:
        return "DTE generado, timbrado y firmado."
    if status == t.SENT:
        return f"Enviado al SII (TrackID {track_id})" if track_id else "Enviado al SII"
    if status == t.ACCEPTED:
        return "Aceptado por el SII"
    if status == t.OBJECTED:
        return f"Aceptado con reparos por el SII: {message or sii_state or 'sin detalle informado'}"
    if status == t.REJECTED:
        return f"Rechazado: {message or sii_state or 'el SII no informó el motivo'}\n{REJECTED_NEXT_STEP}"
    if status == t.ERROR:
        return f"Error: {message or 'el pipeline no informó el motivo'}"
    if status == t.RETRYING:
        return ("Reintentando automáticamente; no se requiere ninguna acción. "
                f"{message or 'El pipeline no informó el motivo.'}")
    raise ValueError(f"no chatter text for status {status!r}")


# What to do after a rejection: the SII's web services give only the state
# and counts for a document rejected inside an envío; the reason comes by
# e-mail, and the folio cannot carry other content in the pipeline.
REJECTED_NEXT_STEP = (
    "Qué hacer: corrija los datos y emita un documento nuevo (por ejemplo con «Duplicar»), que "
    "recibirá otro folio; este documento puede volver a borrador y cancelarse, pero no validarse "
    "de nuevo con el mismo folio. El detalle del rechazo llega en el correo del SII (resultado "
    "del envío) a la casilla de intercambio de la empresa."
)

# Refusals of a change to a document whose DTE reached the pipeline
# (transitions.FROZEN, and REISSUABLE for re-posting and deleting).
FROZEN_ACTIONS = {
    "draft": "volver a borrador",
    "cancel": "cancelar",
    "delete": "eliminar",
    "post": "validar de nuevo",
}


def frozen_next_step(status):
    """What the user can do instead, for a document in ``status``."""
    if status in t.IN_FLIGHT:
        return ("El documento está en proceso: espere la respuesta del SII. Para corregirlo, emita "
                "después una nota de crédito (botón «Nota de crédito»).")
    if status in (t.ACCEPTED, t.OBJECTED):
        return ("Para corregirlo o anularlo emita una nota de crédito (botón «Nota de crédito»), o una "
                "nota de débito para aumentar montos.")
    if status == t.ERROR:
        return ("Reintente el envío sin cambios con «Enviar DTE (async)» (o reponga el mensaje con "
                "`dte dead replay`); el folio ya quedó asociado a este contenido. Si el SII lo acepta y "
                "hay que corregirlo, emita una nota de crédito.")
    if status == t.REJECTED:
        return REJECTED_NEXT_STEP
    return ""


def frozen_text(status, document, action=None, fields=()):
    """Why ``action`` (a FROZEN_ACTIONS key) or an edit of ``fields`` is refused."""
    label = STATUS_LABELS.get(status, status)
    if action:
        head = f"No se puede {FROZEN_ACTIONS[action]} {document}: su DTE está «{label}»"
    else:
        names = ", ".join(f"«{name}»" for name in fields)
        head = f"No se puede modificar {names} de {document}: su DTE está «{label}»"
    if status == t.REJECTED:
        head += " y su folio quedó asociado al contenido enviado."
    else:
        head += " y el documento ya no puede cambiar en Odoo (su folio quedó asociado a este contenido)."
    return f"{head}\n{frozen_next_step(status)}"


# RazonRef by CodRef when the user gave no reason (the SII's wording).
def reference_reason(code, origin_name=""):
    """Default RazonRef of a note: 1 anula, 2 corrige texto, 3 corrige montos."""
    if code == 1:
        return f"Anula documento {origin_name}".strip()
    if code == 2:
        return "Corrige texto"
    if code == 3:
        return "Corrige montos"
    raise ValueError(f"unknown reference code {code!r}")


def final_error_warning(status, message=""):
    """Chatter warning for a failure reported for a document already final.

    Its status does not change (the SII decided), but the sender must learn
    that the request behind the failure, e.g. a changed invoice under a folio
    already used, was not issued.
    """
    label = STATUS_LABELS.get(status, status)
    detail = (message or "").strip() or "el pipeline no informó el motivo"
    return (f"Aviso: el pipeline informó un error para este documento, que ya está «{label}»; "
            f"su estado no cambia y la solicitud que falló no se emitió. {detail}")


def attachments_text(names):
    """Chatter text when the pipeline's files of an accepted DTE were attached."""
    return ("Documentos del DTE adjuntos (se envían con «Enviar e imprimir»; el PDF está en el menú "
            f"Imprimir): {', '.join(names)}.")


def attachments_error_text(error):
    """Chatter warning when an accepted DTE came without its files."""
    detail = (error or "").strip() or "sin detalle"
    return ("Aviso: el SII aceptó el documento, pero el pipeline no pudo generar el PDF o el XML para el "
            f"cliente; pida a un operador que los genere («dte print»). Detalle: {detail}")


def queued_text(dtekey):
    """Chatter text when Odoo got the 202 from enqueue."""
    return f"Enviado a la cola de emisión (clave {dtekey})."


def enqueue_error(result, url=""):
    """Spanish explanation of a failed POST to enqueue (an EnqueueResult)."""
    from . import problems  # local import: problems imports nothing from here

    kind = result.kind
    unchanged = "El documento no se modificó; puede reintentar el envío sin riesgo de duplicarlo."
    if kind == "invalid":
        lines = problems.spanish_errors(result.problem)
        head = "El servicio de envío rechazó el documento porque tiene datos inválidos:"
        return "\n".join([head] + [f"• {line}" for line in lines])
    if kind == "unauthorized":
        return ("El servicio de envío rechazó la firma de la solicitud (HTTP 401). Revise que el «secreto de envío» "
                "en Ajustes sea el mismo configurado en el servicio y que la hora del servidor de Odoo esté correcta. "
                + unchanged)
    if kind == "too_large":
        return "El documento es demasiado grande para el servicio de envío (más de 1 MiB, HTTP 413)."
    if kind == "unsupported":
        return "El servicio de envío no aceptó el formato de la solicitud (HTTP 415). " + unchanged
    if kind == "conflict":
        doc = result.problem or {}
        label = STATUS_LABELS.get(str(doc.get("document_status") or ""), doc.get("document_status") or "desconocido")
        return (f"El folio ya fue firmado con otros datos (documento {doc.get('dtekey') or result.dtekey}, "
                f"estado «{label}»; HTTP 409). No se emitió nada: emita este documento con un folio nuevo.")
    if kind == "unavailable":
        wait = f" Reintente en {result.retry_after} segundos." if result.retry_after else " Reintente en unos minutos."
        return ("El servicio de envío no está disponible en este momento (HTTP 503: la cola de mensajes no respondió)."
                + wait + " " + unchanged)
    if kind == "server_error":
        return f"El servicio de envío respondió con un error interno (HTTP {result.status}). " + unchanged
    if kind == "timeout":
        return (f"El servicio de envío no respondió dentro de {result.timeout:g} segundos. " + unchanged)
    if kind == "connection":
        return (f"No se pudo conectar con el servicio de envío ({url or 'URL sin configurar'}): {result.detail}. "
                "Revise la URL en Ajustes y que el servicio esté en línea. " + unchanged)
    if kind == "config":
        return f"La URL del servicio de envío no es válida: {result.detail}. Corríjala en Ajustes."
    return f"Respuesta inesperada del servicio de envío (HTTP {result.status}). " + unchanged
