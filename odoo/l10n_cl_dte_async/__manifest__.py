{
    'name': 'Chile - DTE asíncrono (pipeline)',
    'version': '19.0.1.0.0',
    'category': 'Accounting/Localizations/EDI',
    'summary': 'Emite DTE (33, 34, 52, 56, 61) a través de un pipeline asíncrono y recibe su estado SII por webhook',
    'description': """
Envío asíncrono de DTE al SII
=============================

El contador valida la factura y pulsa «Enviar DTE (async)»: Odoo arma la solicitud
(JSON), la firma con HMAC y la entrega en menos de un segundo al servicio «enqueue».
El pipeline (firma, timbre, envío al SII, seguimiento) informa cada cambio de estado
en /api/dte/callback y el estado y el chatter de la factura se actualizan solos.
""",
    'author': 'dtecl pipeline',
    'license': 'LGPL-3',
    'depends': ['account', 'account_debit_note', 'l10n_cl', 'mail', 'bus'],
    'data': [
        'security/ir.model.access.csv',
        'security/dte_async_security.xml',
        'data/dte_async_data.xml',
        'views/dte_async_event_views.xml',
        'views/account_move_views.xml',
        'views/res_config_settings_views.xml',
        'views/res_partner_views.xml',
        'data/ir_actions_server.xml',
    ],
    'assets': {
        'web.assets_backend': [
            'l10n_cl_dte_async/static/src/**/*',
        ],
        'web.assets_tests': [
            'l10n_cl_dte_async/static/tests/tours/**/*',
        ],
    },
    'installable': True,
    'application': False,
}
