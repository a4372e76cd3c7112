from odoo import api, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = 'res.config.settings'

    dte_async_enqueue_url = fields.Char(
        related='company_id.dte_async_enqueue_url', readonly=False,
        string='URL del servicio de envío')
    dte_async_sending_secret = fields.Char(
        related='company_id.dte_async_sending_secret', readonly=False, groups='base.group_system',
        string='Secreto de envío')
    dte_async_callback_secret = fields.Char(
        related='company_id.dte_async_callback_secret', readonly=False, groups='base.group_system',
        string='Secreto de notificación')
    dte_async_resolution_number = fields.Integer(
        related='company_id.dte_async_resolution_number', readonly=False,
        string='Número de resolución SII')
    dte_async_resolution_date = fields.Date(
        related='company_id.dte_async_resolution_date', readonly=False,
        string='Fecha de resolución SII')
    dte_async_acteco = fields.Char(
        related='company_id.dte_async_acteco', readonly=False,
        string='Códigos de actividad (ACTECO)')
    dte_async_auto_send = fields.Boolean(
        related='company_id.dte_async_auto_send', readonly=False,
        string='Enviar DTE al validar')
    dte_async_callback_url = fields.Char(
        string='URL de notificación', compute='_compute_dte_async_callback_url',
        help='Configure esta URL (y la cabecera X-Odoo-Database) en el servicio «notify» del pipeline.')
    dte_async_database = fields.Char(
        string='Base de datos', compute='_compute_dte_async_callback_url')

    @api.depends('company_id')
    def _compute_dte_async_callback_url(self):
        base = (self.env['ir.config_parameter'].sudo().get_param('web.base.url') or '').rstrip('/')
        for settings in self:
            settings.dte_async_callback_url = f'{base}/api/dte/callback'
            settings.dte_async_database = self.env.cr.dbname
