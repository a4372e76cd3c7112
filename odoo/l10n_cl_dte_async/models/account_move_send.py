from odoo import api, models


class AccountMoveSend(models.AbstractModel):
    _inherit = 'account.move.send'

    @api.model
    def _get_invoice_extra_attachments(self, move):
        """«Enviar e imprimir» also sends the DTE's printed PDF and the receiver's EnvioDTE."""
        return super()._get_invoice_extra_attachments(move) \
            | move.dte_async_pdf_id | move.dte_async_receiver_xml_id
