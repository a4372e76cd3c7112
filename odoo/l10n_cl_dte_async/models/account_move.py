import datetime
import functools
import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG
from odoo.exceptions import UserError

from ..dtelib import builder, callback, enqueue_client, jsonenc, messages, transitions

_logger = logging.getLogger(__name__)

SEND_TYPES = ('33', '34', '52', '56', '61')
BOT_XMLID = 'l10n_cl_dte_async.partner_dte_bot'
TIMEOUT_PARAM = 'l10n_cl_dte_async.timeout'
# Bus notification sent when a document's DTE status changes; an open form
# of the document listens for it (static/src/dte_async_live.js).
BUS_SUBCHANNEL = 'l10n_cl_dte_async'
BUS_TYPE = 'l10n_cl_dte_async/status'

# What goes into the DTE: once the pipeline has the document
# (transitions.FROZEN) these never change in Odoo.
DTE_MOVE_FIELDS = (
    'partner_id', 'commercial_partner_id', 'partner_shipping_id', 'company_id', 'journal_id',
    'move_type', 'name', 'currency_id', 'invoice_date', 'invoice_date_due', 'invoice_payment_term_id',
    'l10n_latam_document_type_id', 'l10n_latam_document_number', 'invoice_line_ids', 'line_ids',
    'reversed_entry_id', 'debit_origin_id', 'dte_async_transfer_type', 'dte_async_dispatch_type',
    'dte_async_reference_code', 'dte_async_reference_reason',
)
DTE_LINE_FIELDS = (
    'move_id', 'display_type', 'name', 'product_id', 'quantity', 'product_uom_id', 'price_unit',
    'discount', 'tax_ids', 'currency_id', 'balance', 'amount_currency', 'debit', 'credit',
)

STATUS_SELECTION = [(status, messages.STATUS_LABELS[status]) for status in transitions.STATUSES]
TRANSFER_TYPES = [
    ('1', '1 - Operación constituye venta'),
    ('2', '2 - Ventas por efectuar'),
    ('3', '3 - Consignaciones'),
    ('4', '4 - Entrega gratuita'),
    ('5', '5 - Traslados internos'),
    ('6', '6 - Otros traslados no venta'),
    ('7', '7 - Guía de devolución'),
    ('8', '8 - Traslado para exportación (no venta)'),
    ('9', '9 - Venta para exportación'),
]
DISPATCH_TYPES = [
    ('1', '1 - Por cuenta del receptor'),
    ('2', '2 - Por cuenta del emisor a instalaciones del cliente'),
    ('3', '3 - Por cuenta del emisor a otras instalaciones'),
]
REFERENCE_CODES = [
    ('1', '1 - Anula el documento de referencia'),
    ('2', '2 - Corrige texto del documento de referencia'),
    ('3', '3 - Corrige montos'),
]


def _html(text):
    """Chatter body: the text escaped, its line breaks kept."""
    return Markup('<p>%s</p>') % Markup('<br/>').join(str(text).split('\n'))


def value_changes(record, name, value):
    """Whether writing ``value`` to field ``name`` changes ``record`` (one record).

    The web client and some of Odoo's own code write values that are
    already there; only a real change of a frozen document is refused. Any
    command on a relational list counts as a change.
    """
    field = record._fields[name]
    if field.type in ('one2many', 'many2many'):
        return bool(value)
    try:
        new = field.convert_to_record(field.convert_to_cache(value, record), record)
    except (TypeError, ValueError):
        return True
    return new != record[name]


def _naive_utc(value):
    """An aware datetime as the naive UTC datetime Odoo stores."""
    return value.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def _auto_send_after_commit(registry, uid, context, move_ids):
    """Post-commit hook of ``_post``: send the just-posted documents.

    Runs after the posting transaction committed, in a fresh cursor, so that a
    DTE is never requested for an invoice whose posting was rolled back.
    """
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, uid, context)
            env['account.move'].browse(move_ids).exists()._dte_async_auto_send()
    except Exception:  # a post-commit hook must not break the user's request
        _logger.exception("l10n_cl_dte_async: automatic sending of moves %s failed", move_ids)


class AccountMove(models.Model):
    _inherit = 'account.move'

    dte_async_status = fields.Selection(
        STATUS_SELECTION, string='Estado DTE', default='not_sent', required=True, copy=False,
        readonly=True, tracking=True, index=True,
        help='Estado del documento tributario en el pipeline asíncrono y en el SII.')
    dte_async_track_id = fields.Char(string='TrackID SII', copy=False, readonly=True)
    dte_async_sii_code = fields.Char(
        string='Último código SII', copy=False, readonly=True,
        help='Último estado informado por el SII (por ejemplo EPR, RPR, RCH).')
    dte_async_sii_message = fields.Text(string='Último mensaje SII', copy=False, readonly=True)
    dte_async_last_update = fields.Datetime(string='Última actualización DTE', copy=False, readonly=True)
    dte_async_dtekey = fields.Char(
        string='Clave DTE', copy=False, readonly=True,
        help='Identidad del documento en el pipeline: RUT emisor, tipo y folio.')
    dte_async_enqueue_event_id = fields.Char(string='Evento de envío', copy=False, readonly=True)
    dte_async_trace_id = fields.Char(
        string='Traza', copy=False, readonly=True,
        help='Identificador de la traza del documento en el pipeline (OpenTelemetry): búsquelo en el '
             'sistema de trazas o en los registros de las funciones para ver cada paso del envío.')
    dte_async_pdf_id = fields.Many2one(
        'ir.attachment', string='DTE impreso (PDF)', copy=False, readonly=True,
        help='La representación impresa del DTE con su timbre electrónico (PDF417), hecha por el '
             'pipeline cuando el SII aceptó el documento. «Enviar e imprimir» la adjunta al correo.')
    dte_async_receiver_xml_id = fields.Many2one(
        'ir.attachment', string='EnvioDTE para el receptor', copy=False, readonly=True,
        help='El DTE en un EnvioDTE dirigido al cliente, para clientes con correo de intercambio DTE. '
             '«Enviar e imprimir» lo adjunta al correo.')
    dte_async_event_ids = fields.One2many(
        'l10n_cl_dte_async.event', 'move_id', string='Eventos del pipeline', readonly=True)
    dte_async_can_send = fields.Boolean(
        string='Puede enviarse como DTE', compute='_compute_dte_async_can_send')
    dte_async_transfer_type = fields.Selection(
        TRANSFER_TYPES, string='Tipo de traslado', default='1', copy=False,
        help='Indicador de traslado de la guía de despacho electrónica (52).')
    dte_async_dispatch_type = fields.Selection(
        DISPATCH_TYPES, string='Tipo de despacho', copy=False,
        help='Tipo de despacho de la guía de despacho electrónica (52), opcional.')
    dte_async_reference_code = fields.Selection(
        REFERENCE_CODES, string='Código de referencia', copy=False,
        help='Qué hace esta nota con el documento que modifica. Si se deja vacío: «Anula» cuando la '
             'nota de crédito es por el total del documento original, «Corrige montos» en otro caso.')
    dte_async_reference_reason = fields.Char(
        string='Razón de referencia', copy=False,
        help='Motivo de la nota (máximo 90 caracteres). Se toma del motivo escrito en el asistente de nota de '
             'crédito o débito; si queda vacío: «Anula documento FAC 000001», «Corrige texto» o «Corrige '
             'montos», según el código de referencia.')

    # ------------------------------------------------------------------
    # eligibility
    # ------------------------------------------------------------------

    @api.depends('state', 'move_type', 'country_code', 'l10n_latam_document_type_id', 'dte_async_status')
    def _compute_dte_async_can_send(self):
        for move in self:
            move.dte_async_can_send = not move._dte_async_ineligibility()

    @api.depends('dte_async_status')
    def _compute_show_reset_to_draft_button(self):
        super()._compute_show_reset_to_draft_button()
        for move in self:
            if transitions.is_frozen(move.dte_async_status):
                move.show_reset_to_draft_button = False

    def _dte_async_ineligibility(self):
        """Why this document cannot be sent now (Spanish), or '' when it can."""
        self.ensure_one()
        if self.move_type not in ('out_invoice', 'out_refund'):
            return self.env._('Solo se envían documentos de venta (facturas, notas y guías de despacho).')
        if self.country_code != 'CL':
            return self.env._('La empresa no usa la localización chilena.')
        code = self.l10n_latam_document_type_id.code or ''
        if code not in SEND_TYPES:
            return self.env._('El tipo de documento %s no se emite por este canal (solo 33, 34, 52, 56 y 61).',
                              code or self.env._('(sin tipo)'))
        if self.state != 'posted':
            return self.env._('El documento debe estar validado (publicado) antes de enviarlo.')
        status = self.dte_async_status or transitions.NOT_SENT
        if status in transitions.IN_FLIGHT:
            return self.env._('El documento ya está en proceso (%s).', messages.STATUS_LABELS[status])
        if status in transitions.FINAL:
            return self.env._('El SII ya resolvió este documento (%s).', messages.STATUS_LABELS[status])
        return ''

    # ------------------------------------------------------------------
    # request building
    # ------------------------------------------------------------------

    def _dte_async_origin_move(self):
        """The document a credit (61) or debit (56) note modifies."""
        self.ensure_one()
        code = self.l10n_latam_document_type_id.code
        if code == '61':
            return self.reversed_entry_id
        if code == '56' and 'debit_origin_id' in self._fields:
            return self.debit_origin_id
        return self.browse()

    def _dte_async_reference_code_value(self, origin):
        self.ensure_one()
        if self.dte_async_reference_code:
            return int(self.dte_async_reference_code)
        if (self.l10n_latam_document_type_id.code == '61' and origin
                and self.currency_id.compare_amounts(self.amount_total, origin.amount_total) == 0):
            return 1
        return 3

    @staticmethod
    def _dte_async_line_taxes(line):
        taxes = []
        for tax in line.tax_ids:
            for leaf in (tax.children_tax_ids if tax.amount_type == 'group' else tax):
                taxes.append({
                    'name': leaf.name,
                    'sii_code': leaf.l10n_cl_sii_code,
                    'amount': leaf.amount,
                    'amount_type': leaf.amount_type,
                    'price_include': leaf.price_include,
                })
        return taxes

    def _dte_async_plain_invoice(self):
        """The move as plain data for dtelib.builder (see its docstring)."""
        self.ensure_one()
        company = self.company_id
        company_partner = company.partner_id
        commercial = self.commercial_partner_id
        partner = self.partner_id
        address = partner if (partner.street or partner.city) else commercial
        code = self.l10n_latam_document_type_id.code
        lines = [{
            'product_code': line.product_id.default_code or '',
            'product_name': line.product_id.name or '',
            'name': line.name or '',
            'quantity': line.quantity,
            'uom': line.product_uom_id.name or '',
            'price_unit': line.price_unit,
            'discount': line.discount,
            'subtotal': line.price_subtotal,
            'taxes': self._dte_async_line_taxes(line),
        } for line in self.invoice_line_ids.filtered(lambda l: l.display_type == 'product')]
        origin = None
        if code in ('56', '61'):
            origin_move = self._dte_async_origin_move()
            if origin_move:
                ref_code = self._dte_async_reference_code_value(origin_move)
                origin = {
                    'document_type': origin_move.l10n_latam_document_type_id.code or '',
                    'folio': origin_move.l10n_latam_document_number or '',
                    'date': origin_move.invoice_date,
                    'code': ref_code,
                    # Never Odoo's own "Reversal of: …" reference (English, and not a reason).
                    'reason': (self.dte_async_reference_reason or '').strip()
                    or messages.reference_reason(ref_code, origin_move.name or ''),
                }
        return {
            'database': self.env.cr.dbname,
            'move_id': self.id,
            'document_type': code,
            'folio': self.l10n_latam_document_number,
            'invoice_date': self.invoice_date,
            'due_date': self.invoice_date_due,
            'currency': self.currency_id.name,
            'transfer_type': self.dte_async_transfer_type if code == '52' else None,
            'dispatch_type': self.dte_async_dispatch_type if code == '52' else None,
            'company': {
                'rut': company_partner.vat,
                'name': company.name,
                'activity': company_partner.l10n_cl_activity_description,
                'acteco': company.dte_async_acteco,
                'street': company.street,
                'street2': company.street2,
                'commune': company.city,
                'email': company.email,
                'phone': company.phone,
                'sii_resolution_number': company.dte_async_resolution_number,
                'sii_resolution_date': company.dte_async_resolution_date,
            },
            'partner': {
                'rut': commercial.vat,
                'name': commercial.name,
                'activity': commercial.l10n_cl_activity_description,
                'street': address.street,
                'street2': address.street2,
                'commune': address.city,
                'email': partner.email or commercial.email,
                'contact': partner.name if partner != commercial else '',
                'exchange_email': commercial.dte_async_exchange_email or '',
            },
            'lines': lines,
            'origin': origin,
            'odoo_totals': {
                'untaxed': self.amount_untaxed,
                'tax': self.amount_tax,
                'total': self.amount_total,
            },
        }

    def _dte_async_build_request(self):
        """(request dict, body bytes) or UserError listing every problem."""
        self.ensure_one()
        try:
            request = builder.build_request(self._dte_async_plain_invoice())
        except builder.BuildError as err:
            raise UserError(self.env._(
                'No se puede enviar %(document)s como DTE:\n%(problems)s',
                document=self.display_name,
                problems='\n'.join(f'• {problem}' for problem in err.problems),
            )) from None
        return request, jsonenc.dumps(request)

    def _dte_async_expected_dtekey(self):
        """The dtekey a callback must carry for this move."""
        self.ensure_one()
        return self.dte_async_dtekey or builder.dtekey_for(
            self.company_id.partner_id.vat, self.l10n_latam_document_type_id.code,
            self.l10n_latam_document_number) or ''

    # ------------------------------------------------------------------
    # sending
    # ------------------------------------------------------------------

    def _dte_async_timeout(self):
        value = self.env['ir.config_parameter'].sudo().get_param(TIMEOUT_PARAM, '')
        try:
            return min(60.0, max(1.0, float(value)))
        except (TypeError, ValueError):
            return enqueue_client.DEFAULT_TIMEOUT

    def _dte_async_bot(self):
        return self.env.ref(BOT_XMLID, raise_if_not_found=False) or self.env.ref('base.partner_root')

    def _dte_async_send_one(self):
        """POST this move to enqueue; on 202 mark it queued, otherwise UserError.

        Nothing is written unless enqueue answered 202, so an error leaves the
        document exactly as it was and sending again is safe (the pipeline
        never issues a dtekey twice).
        """
        self.ensure_one()
        self.check_access('write')
        # Hold the move until this transaction ends: a callback for this very
        # document (the pipeline may answer before we commit) waits for our
        # 'queued' and is then retried by Odoo, instead of racing with it.
        self.env.cr.execute("SELECT id FROM account_move WHERE id = %s FOR NO KEY UPDATE", (self.id,))
        reason = self._dte_async_ineligibility()
        if reason:
            raise UserError(self.env._('No se puede enviar %(document)s: %(reason)s',
                                       document=self.display_name, reason=reason))
        company = self.company_id.sudo()
        url = (company.dte_async_enqueue_url or '').strip()
        secret = company.dte_async_sending_secret or ''
        if not url or not secret:
            raise UserError(self.env._(
                'Configure la URL del servicio de envío y el secreto de envío en '
                'Ajustes › Contabilidad › DTE asíncrono (empresa %s).', company.name))
        request, body = self._dte_async_build_request()
        key = builder.dtekey(request)
        result = enqueue_client.send(url, body, secret, timeout=self._dte_async_timeout())
        if not result.ok:
            _logger.warning("l10n_cl_dte_async: enqueue refused %s (%s): %s %s",
                            key, self.display_name, result.kind, result.status or result.detail)
            raise UserError(self.env._('%(document)s: %(error)s', document=self.display_name,
                                       error=messages.enqueue_error(result, url)))
        self.write({
            'dte_async_status': transitions.QUEUED,
            'dte_async_dtekey': result.dtekey or key,
            'dte_async_enqueue_event_id': result.event_id or False,
            'dte_async_trace_id': result.trace_id or False,
            'dte_async_last_update': fields.Datetime.now(),
            'dte_async_track_id': False,
            'dte_async_sii_code': False,
            'dte_async_sii_message': False,
        })
        self.message_post(body=_html(messages.queued_text(result.dtekey or key)),
                          message_type='comment', subtype_xmlid='mail.mt_note')
        self._dte_async_notify_bus()
        return result

    def action_dte_async_send(self):
        """Button «Enviar DTE (async)»: hand the document to the pipeline."""
        for move in self:
            move._dte_async_send_one()
        return True

    def action_dte_async_send_many(self):
        """List action: send every selected document; report what happened."""
        sent, failed, skipped = [], [], []
        for move in self:
            reason = move._dte_async_ineligibility()
            if reason:
                skipped.append(f'{move.display_name}: {reason}')
                continue
            try:
                with self.env.cr.savepoint():
                    move._dte_async_send_one()
            except UserError as err:
                failed.append(str(err.args[0] if err.args else err))
            else:
                sent.append(move.display_name)
        parts = []
        if sent:
            parts.append(self.env._('%(count)s enviado(s) a la cola: %(names)s',
                                    count=len(sent), names=', '.join(sent)))
        if failed:
            parts.append(self.env._('%(count)s con error:\n%(errors)s',
                                    count=len(failed), errors='\n'.join(failed)))
        if skipped:
            parts.append(self.env._('%(count)s omitido(s):\n%(reasons)s',
                                    count=len(skipped), reasons='\n'.join(skipped)))
        if not parts:
            parts.append(self.env._('No se seleccionó ningún documento.'))
        kind = 'success' if sent and not failed and not skipped else ('warning' if sent else 'danger')
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'title': self.env._('Envío de DTE'),
                'message': '\n\n'.join(parts),
                'type': kind,
                'className': 'o_dte_async_notification',  # keeps the line breaks (static/src)
                'sticky': bool(failed or skipped),
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
            },
        }

    # ------------------------------------------------------------------
    # automatic sending when posting
    # ------------------------------------------------------------------

    def _post(self, soft=True):
        for move in self:
            if transitions.folio_bound(move.dte_async_status):
                raise UserError(messages.frozen_text(move.dte_async_status, move._dte_async_label(), 'post'))
        posted = super()._post(soft=soft)
        posted._dte_async_check_before_posting()
        to_send = posted.filtered(
            lambda move: move.company_id.dte_async_auto_send and not move._dte_async_ineligibility())
        if to_send:
            to_send._dte_async_schedule_auto_send()
        return posted

    def _dte_async_is_checked_on_post(self):
        """True for a Chilean electronic document of a company that uses the pipeline."""
        self.ensure_one()
        return (self.move_type in ('out_invoice', 'out_refund')
                and self.country_code == 'CL'
                and (self.l10n_latam_document_type_id.code or '') in SEND_TYPES
                and bool((self.company_id.sudo().dte_async_enqueue_url or '').strip()))

    def _dte_async_check_before_posting(self):
        """Run the checks of the request on just-posted documents; UserError if any fails.

        Called inside ``_post``, after the folio was assigned: raising rolls
        the whole posting back, so a document that could not be sent is
        neither posted nor given a folio.
        """
        refusals = []
        for move in self.filtered(lambda m: m._dte_async_is_checked_on_post()):
            try:
                builder.build_request(move._dte_async_plain_invoice())
            except builder.BuildError as err:
                refusals.append(self.env._(
                    '%(document)s para «%(partner)s»:\n%(problems)s',
                    document=move.l10n_latam_document_type_id.name or move.move_type,
                    partner=move.partner_id.display_name or '',
                    problems='\n'.join(f'• {problem}' for problem in err.problems)))
        if refusals:
            raise UserError(self.env._(
                'No se puede validar: el documento no podría emitirse como DTE. Corrija los datos y '
                'valide de nuevo (no se usó ningún folio).\n\n%s', '\n\n'.join(refusals)))

    def _dte_async_schedule_auto_send(self):
        """Send these moves once the current transaction has committed."""
        self.env.cr.postcommit.add(functools.partial(
            _auto_send_after_commit, self.env.registry, self.env.uid, dict(self.env.context), tuple(self.ids)))

    def _dte_async_auto_send(self):
        """Send each move; a failure is logged in its chatter, never raised."""
        bot = self._dte_async_bot()
        for move in self:
            if move._dte_async_ineligibility():
                continue
            try:
                with self.env.cr.savepoint():
                    move._dte_async_send_one()
            except UserError as err:
                text = self.env._(
                    'No se pudo enviar el DTE automáticamente al validar. Puede reintentar con el botón '
                    '«Enviar DTE (async)».\n%s', str(err.args[0] if err.args else err))
                move.sudo().message_post(body=_html(text), author_id=bot.id,
                                         message_type='comment', subtype_xmlid='mail.mt_note')

    # ------------------------------------------------------------------
    # a document the pipeline has is frozen
    # ------------------------------------------------------------------

    def _check_draftable(self):
        """Reset to draft (and cancel, which resets first) of a frozen DTE is refused."""
        for move in self:
            if transitions.is_frozen(move.dte_async_status):
                raise UserError(messages.frozen_text(move.dte_async_status, move._dte_async_label(), 'draft'))
        return super()._check_draftable()

    def button_cancel(self):
        for move in self:
            if transitions.is_frozen(move.dte_async_status):
                raise UserError(messages.frozen_text(move.dte_async_status, move._dte_async_label(), 'cancel'))
        return super().button_cancel()

    def unlink(self):
        """A folio the pipeline saw is never freed for another document's content.

        Checked before anything else (the lines' own checks included), so the
        refusal names the document; not when a module is uninstalled.
        """
        if not self.env.context.get(MODULE_UNINSTALL_FLAG):
            for move in self:
                if transitions.folio_bound(move.dte_async_status):
                    raise UserError(messages.frozen_text(move.dte_async_status, move._dte_async_label(), 'delete'))
        return super().unlink()

    def _dte_async_label(self):
        """The document's folio name (FAC 000001), also once back in draft."""
        self.ensure_one()
        return self.name if self.name and self.name != '/' else self.display_name

    def _dte_async_refuse_frozen_changes(self, vals, protected):
        """UserError when ``vals`` would change a protected field of a frozen move."""
        names = [name for name in protected if name in vals]
        if 'state' in vals:
            names.append('state')
        if not names:
            return
        for move in self:
            if not transitions.is_frozen(move.dte_async_status):
                continue
            changed = [name for name in names if value_changes(move, name, vals[name])]
            if not changed:
                continue
            if 'state' in changed:
                action = 'cancel' if vals['state'] == 'cancel' else 'draft'
                raise UserError(messages.frozen_text(move.dte_async_status, move._dte_async_label(), action))
            labels = [move._fields[name]._description_string(self.env) for name in changed]
            raise UserError(messages.frozen_text(move.dte_async_status, move._dte_async_label(), fields=labels))

    def write(self, vals):
        self._dte_async_refuse_frozen_changes(vals, DTE_MOVE_FIELDS)
        return super().write(vals)

    def _dte_async_notify_bus(self):
        """Tell the open forms of these documents that their DTE status changed."""
        for move in self:
            self.env['bus.bus']._sendone((move, BUS_SUBCHANNEL), BUS_TYPE, {
                'model': move._name,
                'id': move.id,
                'status': move.dte_async_status,
                'track_id': move.dte_async_track_id or '',
            })

    # ------------------------------------------------------------------
    # callback from the pipeline
    # ------------------------------------------------------------------

    def _dte_async_apply_event(self, event, decision):
        """Write a status the pipeline reported; author: the pipeline's bot partner.

        ``event`` is a dtelib.callback.Event, ``decision`` an applied
        dtelib.transitions.Decision. Called with a superuser environment by
        the callback controller.
        """
        self.ensure_one()
        bot = self._dte_async_bot()
        values = {
            'dte_async_status': decision.status,
            'dte_async_last_update': _naive_utc(event.occurred_at),
            'dte_async_sii_message': event.message or False,
        }
        if event.track_id:
            values['dte_async_track_id'] = event.track_id
        if event.sii_state:
            values['dte_async_sii_code'] = event.sii_state
        if not self.dte_async_dtekey:
            values['dte_async_dtekey'] = event.dtekey
        if getattr(event, 'trace_id', ''):
            values['dte_async_trace_id'] = event.trace_id
        if hasattr(self, '_track_set_author'):
            self._track_set_author(bot)  # the status tracking line is the bot's too
        self.write(values)
        text = messages.chatter_text(decision.status, event.track_id, event.sii_state, event.message)
        self.message_post(body=_html(text), author_id=bot.id,
                          message_type='comment', subtype_xmlid='mail.mt_note')
        self._dte_async_notify_bus()

    def _dte_async_attach_files(self, event):
        """Attach what the customer receives (the callback's attachments) to the invoice.

        Idempotent: a file the move already holds (same name, same bytes) is not
        attached again, so a replayed callback adds nothing. The PDF and the
        receiver's XML are remembered on the move, for «Enviar e imprimir» and the
        Print menu.
        """
        self.ensure_one()
        if event.attachments_error:
            self.message_post(body=_html(messages.attachments_error_text(event.attachments_error)),
                              author_id=self._dte_async_bot().id,
                              message_type='comment', subtype_xmlid='mail.mt_note')
        files = [a for a in event.attachments if a.data]
        if not files:
            return self.env['ir.attachment']
        Attachment = self.env['ir.attachment'].sudo()
        existing = Attachment.search([('res_model', '=', self._name), ('res_id', '=', self.id),
                                      ('name', 'in', [a.name for a in files])])
        new = callback.attachments_to_create([(a.name, a.checksum) for a in existing], files)
        created = Attachment.create([{
            'name': a.name,
            'raw': a.data,
            'mimetype': a.mimetype,
            'res_model': self._name,
            'res_id': self.id,
            'description': f'DTE {event.dtekey} ({a.archive_key})',
        } for a in new]) if new else Attachment
        everything = existing | created
        values = {}
        for kind, field in (('pdf', 'dte_async_pdf_id'), ('receiver_envelope', 'dte_async_receiver_xml_id')):
            names = [a.name for a in files if a.kind == kind]
            match = everything.filtered(lambda att: att.name in names)
            if match:
                values[field] = match.sorted('id')[-1].id
        if values:
            self.write(values)
        if created:
            bot = self._dte_async_bot()
            # disable_attachment_import: account's hook would otherwise take the
            # XML off the invoice and try to import it as a vendor e-invoice.
            self.with_context(disable_attachment_import=True).message_post(
                body=_html(messages.attachments_text([a.name for a in new])),
                author_id=bot.id, attachment_ids=created.ids,
                message_type='comment', subtype_xmlid='mail.mt_note')
        return created

    def action_dte_async_print_pdf(self):
        """Print menu: the DTE's printed representation (the PDF the pipeline made)."""
        moves = self.filtered('dte_async_pdf_id')
        if not moves:
            raise UserError(self.env._(
                'El PDF del DTE todavía no existe: el pipeline lo genera cuando el SII acepta el documento.'))
        if len(moves) == 1:
            return {
                'type': 'ir.actions.act_url',
                'url': f'/web/content/{moves.dte_async_pdf_id.id}?download=true',
                'target': 'download',
            }
        return {
            'type': 'ir.actions.act_window',
            'name': self.env._('DTE impresos'),
            'res_model': 'ir.attachment',
            'view_mode': 'list,form',
            'domain': [('id', 'in', moves.dte_async_pdf_id.ids)],
        }

    def _dte_async_warn_final_error(self, event):
        """Post a failure reported for a document already final, as a warning.

        Its status stays (the SII decided); the sender learns that what failed,
        e.g. a changed request under a folio already used, was not issued.
        """
        self.ensure_one()
        bot = self._dte_async_bot()
        text = messages.final_error_warning(self.dte_async_status, event.message)
        self.message_post(body=_html(text), author_id=bot.id,
                          message_type='comment', subtype_xmlid='mail.mt_note')
        self._dte_async_notify_bus()
