from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..dtelib import builder


class ResPartner(models.Model):
    _inherit = 'res.partner'

    dte_async_exchange_email = fields.Char(
        string='Correo de intercambio DTE',
        help='Si el cliente es emisor electrónico: su correo de intercambio registrado en el SII. Cuando '
             'el SII acepta un DTE para él, el pipeline arma el EnvioDTE dirigido a este cliente y Odoo lo '
             'adjunta a la factura, para enviarlo con «Enviar e imprimir».')

    @api.constrains('dte_async_exchange_email')
    def _check_dte_async_exchange_email(self):
        for partner in self:
            value = (partner.dte_async_exchange_email or '').strip()
            if value and not builder.is_exchange_email(value):
                raise ValidationError(self.env._(
                    'El correo de intercambio DTE de %(partner)s no es una dirección de correo '
                    '(nombre@dominio.cl, sin espacios ni nombres): %(value)s',
                    partner=partner.display_name, value=value))
