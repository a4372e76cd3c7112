from odoo import models


class AccountMoveReversal(models.TransientModel):
    """The reason typed in the credit-note wizard becomes the note's RazonRef.

    Odoo puts it in ``ref`` as «Reversal of: FAC 000001, <reason>» (English,
    and not a reason); the DTE needs the reason alone.
    """

    _inherit = 'account.move.reversal'

    def _prepare_default_reversal(self, move):
        values = super()._prepare_default_reversal(move)
        reason = (self.reason or '').strip()
        if reason:
            values['dte_async_reference_reason'] = reason[:90]
        return values
