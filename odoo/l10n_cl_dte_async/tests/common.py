import json
from contextlib import contextmanager
from unittest.mock import patch

from odoo import Command, fields

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from ..dtelib import enqueue_client

SENDING_SECRET = 'sending-secret-for-tests'
CALLBACK_SECRET = 'callback-secret-for-tests'
COMPANY_RUT = '76086428-5'


class DteAsyncCommon(AccountTestInvoicingCommon):
    """A Chilean company configured for the pipeline, and a Chilean customer."""

    @classmethod
    @AccountTestInvoicingCommon.setup_country('cl')
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data['company']
        country_cl = cls.env.ref('base.cl')
        rut_type = cls.env.ref('l10n_cl.it_RUT')
        cls.company.partner_id.write({
            'country_id': country_cl.id,
            'l10n_latam_identification_type_id': rut_type.id,
            'vat': COMPANY_RUT,
            'l10n_cl_sii_taxpayer_type': '1',
            'l10n_cl_activity_description': 'Venta al por menor de artículos de librería',
        })
        cls.company.write({
            'name': 'Comercial Ñandú Limitada',
            'street': 'Av. Providencia 1234',
            'city': 'Providencia',
            'email': 'facturacion@nandu.example.cl',
            'dte_async_enqueue_url': 'http://enqueue.invalid/',
            'dte_async_sending_secret': SENDING_SECRET,
            'dte_async_callback_secret': CALLBACK_SECRET,
            'dte_async_resolution_number': 0,
            'dte_async_resolution_date': '2024-08-22',
            'dte_async_acteco': '476101, 741000',
        })
        cls.customer = cls.env['res.partner'].create({
            'name': 'Importadora Peñalolén SpA',
            'is_company': True,
            'country_id': country_cl.id,
            'l10n_latam_identification_type_id': rut_type.id,
            'vat': '77654321-7',
            'l10n_cl_sii_taxpayer_type': '1',
            'l10n_cl_activity_description': 'Importación de artículos de oficina',
            'street': 'Camino Los Almendros 890',
            'city': 'Peñalolén',
            'email': 'pagos@penalolen.example.cl',
        })
        cls.vat_tax = cls.company_data['default_tax_sale']
        cls.bot = cls.env.ref('l10n_cl_dte_async.partner_dte_bot')

    @classmethod
    def _create_move(cls, lines=None, move_type='out_invoice', doc_xmlid=None, post=True, **values):
        """A customer document; ``lines`` are (name, quantity, price, taxes)."""
        if lines is None:
            lines = [('Diseño de logotipo', 1, 150000, cls.vat_tax),
                     ('Impresión de catálogos', 2, 12500, cls.vat_tax)]
        vals = {
            'move_type': move_type,
            'partner_id': cls.customer.id,
            'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({
                'name': name,
                'quantity': quantity,
                'price_unit': price,
                'tax_ids': [Command.set(taxes.ids if taxes else [])],
            }) for name, quantity, price, taxes in lines],
            **values,
        }
        if doc_xmlid:
            vals['l10n_latam_document_type_id'] = cls.env.ref(doc_xmlid).id
        move = cls.env['account.move'].create(vals)
        if post:
            move.action_post()
        return move

    @contextmanager
    def mock_enqueue(self, result=None):
        """Replace the HTTP POST to enqueue; yields the list of calls made."""
        calls = []

        def fake_send(url, body, secret, timeout=enqueue_client.DEFAULT_TIMEOUT, now=None, opener=None):
            calls.append({'url': url, 'body': body, 'secret': secret, 'timeout': timeout})
            if result is not None:
                return result
            request = json.loads(body)
            key = '%s-%s-%s' % (request['issuer']['rut'], request['document']['type'], request['document']['folio'])
            return enqueue_client.EnqueueResult('queued', 202, dtekey=key, event_id=f'{key}.requested.test')

        with patch.object(enqueue_client, 'send', fake_send):
            yield calls

    def chatter_bodies(self, move, after_id=0):
        messages = move.message_ids.filtered(lambda m: m.id > after_id)
        return [(m.body or '', m.author_id) for m in messages.sorted('id')]
