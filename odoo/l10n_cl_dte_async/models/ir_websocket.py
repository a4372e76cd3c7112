import re

from odoo import models
from odoo.exceptions import AccessError

from .account_move import BUS_SUBCHANNEL

# What the form asks for (static/src/dte_async_live.js): the DTE status
# channel of one invoice.
CHANNEL = re.compile(r'^l10n_cl_dte_async\.account\.move_(\d+)$')


class IrWebsocket(models.AbstractModel):
    """Let a user who may read an invoice follow its DTE status on the bus."""

    _inherit = 'ir.websocket'

    def _build_bus_channel_list(self, channels):
        asked = [CHANNEL.match(c) for c in channels if isinstance(c, str)]
        # a new list (not the caller's), without the names this method resolves
        channels = [c for c in channels if not (isinstance(c, str) and CHANNEL.match(c))]
        for match in filter(None, asked):
            if not self.env.uid or self.env.user._is_public():
                continue
            move = self.env['account.move'].browse(int(match[1])).exists()
            if not move:
                continue
            try:
                move.check_access('read')
            except AccessError:
                continue
            channels.append((move, BUS_SUBCHANNEL))
        return super()._build_bus_channel_list(channels)
