from odoo import fields, models

from ..dtelib import messages, transitions


class DteAsyncEvent(models.Model):
    """One callback event received from the pipeline, applied or ignored.

    The unique event id makes the callback idempotent: a redelivered event is
    found here and answered as a duplicate without touching the invoice.
    """

    _name = 'l10n_cl_dte_async.event'
    _description = 'Evento DTE recibido del pipeline'
    _order = 'occurred_at desc, id desc'
    _rec_name = 'event_id'

    event_id = fields.Char(string='ID del evento', required=True, readonly=True, index=True)
    move_id = fields.Many2one(
        'account.move', string='Documento', required=True, readonly=True, index=True, ondelete='cascade')
    company_id = fields.Many2one(related='move_id.company_id', string='Empresa', store=True, readonly=True)
    dtekey = fields.Char(string='Clave DTE', readonly=True)
    status = fields.Selection(
        [(s, messages.STATUS_LABELS[s]) for s in transitions.EVENT_STATUSES],
        string='Estado informado', required=True, readonly=True)
    result = fields.Selection(
        [('applied', 'Aplicado'), ('ignored', 'Ignorado (fuera de orden)')],
        string='Resultado', required=True, readonly=True)
    occurred_at = fields.Datetime(string='Ocurrido el', required=True, readonly=True)
    track_id = fields.Char(string='TrackID', readonly=True)
    sii_state = fields.Char(string='Código SII', readonly=True)
    message = fields.Text(string='Mensaje', readonly=True)

    _event_id_uniq = models.Constraint(
        'unique(event_id)',
        'Este evento del pipeline ya fue registrado.',
    )
