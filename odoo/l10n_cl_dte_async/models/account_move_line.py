from odoo import api, models
from odoo.exceptions import UserError

from ..dtelib import messages, transitions
from .account_move import DTE_LINE_FIELDS, value_changes


class AccountMoveLine(models.Model):
    """The detail lines of a frozen DTE (see AccountMove.write) never change."""

    _inherit = 'account.move.line'

    def _dte_async_frozen_product_lines(self):
        return self.filtered(lambda line: line.display_type == 'product'
                             and transitions.is_frozen(line.move_id.dte_async_status))

    def _dte_async_refuse(self, move, labels):
        raise UserError(messages.frozen_text(
            move.dte_async_status, move._dte_async_label(),
            fields=[self.env._('Líneas de factura')] + labels))

    @api.model_create_multi
    def create(self, vals_list):
        move_ids = {vals.get('move_id') for vals in vals_list
                    if vals.get('move_id') and vals.get('display_type', 'product') == 'product'}
        for move in self.env['account.move'].browse(move_ids):
            if transitions.is_frozen(move.dte_async_status):
                self._dte_async_refuse(move, [])
        return super().create(vals_list)

    def write(self, vals):
        names = [name for name in DTE_LINE_FIELDS if name in vals]
        if names:
            for line in self._dte_async_frozen_product_lines():
                changed = [name for name in names if value_changes(line, name, vals[name])]
                if changed:
                    self._dte_async_refuse(line.move_id, [line._fields[name]._description_string(self.env)
                                                           for name in changed])
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _dte_async_unlink_forbid_frozen(self):
        for line in self._dte_async_frozen_product_lines():
            self._dte_async_refuse(line.move_id, [])
