from odoo import models


class AccountDebitNote(models.TransientModel):
    """The reason typed in the debit-note wizard becomes the note's RazonRef."""

    _inherit = 'account.debit.note'

    def _prepare_default_values(self, move):
        values = super()._prepare_default_values(move)
        reason = (self.reason or '').strip()
        if reason:
            values['dte_async_reference_reason'] = reason[:90]
        return values
