from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..dtelib import builder


class ResCompany(models.Model):
    _inherit = 'res.company'

    dte_async_enqueue_url = fields.Char(
        string='URL del servicio de envío',
        help='Dirección del servicio «enqueue» del pipeline, por ejemplo https://dte.example.cl/. '
             'Odoo le envía cada DTE como JSON firmado.')
    dte_async_sending_secret = fields.Char(
        string='Secreto de envío', groups='base.group_system', copy=False,
        help='Secreto compartido con el servicio «enqueue»: Odoo firma cada envío con él (HMAC-SHA256).')
    dte_async_callback_secret = fields.Char(
        string='Secreto de notificación', groups='base.group_system', copy=False,
        help='Secreto compartido con el servicio «notify»: Odoo solo acepta en /api/dte/callback '
             'notificaciones firmadas con él.')
    dte_async_resolution_number = fields.Integer(
        string='Número de resolución SII',
        help='Número de la resolución que autoriza a la empresa a emitir DTE (0 en certificación). '
             'Se envía en cada documento para la carátula.')
    dte_async_resolution_date = fields.Date(
        string='Fecha de resolución SII',
        help='Fecha de la resolución que autoriza a la empresa a emitir DTE.')
    dte_async_acteco = fields.Char(
        string='Códigos de actividad (ACTECO)',
        help='Códigos de actividad económica registrados en el SII, separados por coma (1 a 4), '
             'por ejemplo: 476101, 741000.')
    dte_async_auto_send = fields.Boolean(
        string='Enviar DTE al validar',
        help='Al validar una factura, nota o guía chilena (33, 34, 52, 56, 61), enviarla '
             'automáticamente al pipeline.')

    @api.constrains('dte_async_acteco')
    def _check_dte_async_acteco(self):
        for company in self:
            try:
                builder.parse_acteco(company.dte_async_acteco)
            except ValueError as err:
                raise ValidationError(str(err)) from None

    @api.constrains('dte_async_enqueue_url')
    def _check_dte_async_enqueue_url(self):
        for company in self:
            url = (company.dte_async_enqueue_url or '').strip()
            if url and not url.startswith(('http://', 'https://')):
                raise ValidationError(self.env._(
                    'La URL del servicio de envío debe comenzar con http:// o https:// (valor: %s).', url))
