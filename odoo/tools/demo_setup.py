"""Make a fresh Odoo 19 database ready to issue DTEs through a local pipeline.

An ``odoo-bin shell`` script (odoo/README.md, "Try it"): run it with the
database that has l10n_cl_dte_async installed::

    python3 "$ODOO_SRC/odoo-bin" shell -d dte_demo --addons-path=... < odoo/tools/demo_setup.py

It does what the README's settings section describes, for the database's
main company: Chile and its chart of accounts (CLP, 19 % IVA, documents on
the journals), the company's RUT, giro, address and ACTECO, the SII
resolution (0, certification), VAT rounded globally (as the SII computes
it), the pipeline's URL and secrets, and one customer with complete data.

Environment (all optional; the defaults are `dte local`'s):
  DTE_ENQUEUE_URL   enqueue's URL (http://127.0.0.1:8080/)
  ENQUEUE_SECRET    «Secreto de envío» (dte local's development value)
  CALLBACK_SECRET   «Secreto de notificación» (dte local's development value)
  DTE_COMPANY_RUT   the company's RUT (76086428-5; `dte local --issuer` must name it)
"""
import os

ENQUEUE_URL = os.environ.get('DTE_ENQUEUE_URL') or 'http://127.0.0.1:8080/'
ENQUEUE_SECRET = os.environ.get('ENQUEUE_SECRET') or 'local-dev-enqueue-secret'
CALLBACK_SECRET = os.environ.get('CALLBACK_SECRET') or 'local-dev-callback-secret'
COMPANY_RUT = os.environ.get('DTE_COMPANY_RUT') or '76086428-5'

company = env.company  # noqa: F821  (odoo-bin shell provides env)
chile = env.ref('base.cl')  # noqa: F821
rut_type = env.ref('l10n_cl.it_RUT')  # noqa: F821
if company.chart_template != 'cl':
    if env['account.move.line'].search_count([('company_id', '=', company.id)], limit=1):  # noqa: F821
        raise SystemExit(f'{company.name} already has journal items: use a fresh database')
    company.write({'country_id': chile.id, 'currency_id': env.ref('base.CLP').id})  # noqa: F821
    env['account.chart.template'].try_loading('cl', company, install_demo=False)  # noqa: F821
company.partner_id.write({
    'country_id': chile.id,
    'l10n_latam_identification_type_id': rut_type.id,
    'vat': COMPANY_RUT,
    'l10n_cl_sii_taxpayer_type': '1',
    'l10n_cl_activity_description': 'Servicios de desarrollo de software',
})
company.write({
    'name': 'Empresa de Prueba DTE SpA',
    'street': 'Av. Providencia 1234',
    'city': 'Providencia',
    'email': 'dte@empresa-prueba.example.cl',
    'tax_calculation_rounding_method': 'round_globally',
    'dte_async_enqueue_url': ENQUEUE_URL,
    'dte_async_sending_secret': ENQUEUE_SECRET,
    'dte_async_callback_secret': CALLBACK_SECRET,
    'dte_async_resolution_number': 0,
    'dte_async_resolution_date': '2024-08-22',
    'dte_async_acteco': '620200',
})
customer = env['res.partner'].search([('vat', '=', '77654321-7')], limit=1) or env['res.partner'].create({  # noqa: F821
    'name': 'Cliente de Prueba SpA',
    'is_company': True,
})
customer.write({
    'country_id': chile.id,
    'l10n_latam_identification_type_id': rut_type.id,
    'vat': '77654321-7',
    'l10n_cl_sii_taxpayer_type': '1',
    'l10n_cl_activity_description': 'Comercio al por menor',
    'street': 'Camino Los Almendros 890',
    'city': 'Peñalolén',
})
env.cr.commit()  # noqa: F821
print(f'demo_setup: {company.name} (RUT {company.partner_id.vat}, chart {company.chart_template}, '
      f'{company.currency_id.name}) sends to {ENQUEUE_URL}; customer {customer.name} (RUT {customer.vat})')
