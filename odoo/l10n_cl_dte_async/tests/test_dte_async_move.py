import json
from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..dtelib import enqueue_client, signature
from .common import COMPANY_RUT, SENDING_SECRET, DteAsyncCommon

PROBLEM = {
    'type': 'https://github.com/dtecl/pipeline/problems/invalid-request',
    'title': 'Invalid DTE request',
    'status': 400,
    'detail': '1 problem(s) in the request; see errors',
    'errors': [{'field': 'lines[2].unit_price', 'rule': 'max-decimals',
                'message': '0.12345678 has more than 6 decimals'}],
}


@tagged('post_install', '-at_install', 'post_install_l10n')
class TestDteAsyncMove(DteAsyncCommon):

    def test_button_visibility(self):
        invoice = self._create_move()
        self.assertEqual(invoice.l10n_latam_document_type_id.code, '33')
        self.assertEqual(invoice.dte_async_status, 'not_sent')
        self.assertTrue(invoice.dte_async_can_send)

        draft = self._create_move(post=False)
        self.assertFalse(draft.dte_async_can_send)
        self.assertIn('validado', draft._dte_async_ineligibility())

        bill = self.env['account.move'].create({
            'move_type': 'in_invoice', 'partner_id': self.customer.id, 'invoice_date': invoice.invoice_date,
            'invoice_line_ids': [(0, 0, {'name': 'x', 'quantity': 1, 'price_unit': 1000})],
        })
        self.assertFalse(bill.dte_async_can_send)

        for status in ('queued', 'signed', 'sent', 'accepted', 'objected', 'rejected'):
            invoice.dte_async_status = status
            self.assertFalse(invoice.dte_async_can_send, status)
        invoice.dte_async_status = 'error'
        self.assertTrue(invoice.dte_async_can_send)

    def test_request_built_from_the_invoice(self):
        invoice = self._create_move()
        request, body = invoice._dte_async_build_request()
        self.assertEqual(json.loads(body), json.loads(json.dumps(request, default=float)))
        folio = int(invoice.l10n_latam_document_number)
        self.assertEqual(request['document']['type'], 33)
        self.assertEqual(request['document']['folio'], folio)
        self.assertEqual(request['issuer']['rut'], COMPANY_RUT)
        self.assertEqual(request['issuer']['acteco'], [476101, 741000])
        self.assertEqual(request['issuer']['sii_resolution'], {'number': 0, 'date': '2024-08-22'})
        self.assertEqual(request['receiver']['rut'], '77654321-7')
        self.assertEqual(request['receiver']['commune'], 'Peñalolén')
        self.assertEqual([line['amount'] for line in request['lines']], [150000, 25000])
        self.assertEqual(request['totals'], {'net': 175000, 'exempt': 0, 'vat_rate': 19, 'vat': 33250,
                                             'total': 208250})
        self.assertEqual(request['totals']['total'], invoice.amount_total)
        self.assertEqual(request['odoo'], {'database': self.env.cr.dbname, 'move_id': invoice.id})
        self.assertEqual(invoice._dte_async_expected_dtekey(), f'{COMPANY_RUT}-33-{folio}')
        self.assertNotIn('exchange_email', request['receiver'])

    def test_exchange_email_of_the_customer(self):
        """The partner's DTE exchange address goes in the request (receiver.exchange_email)
        and must be an address."""
        invoice = self._create_move()
        partner = invoice.commercial_partner_id
        partner.dte_async_exchange_email = 'dte@cliente.cl'
        request, _body = invoice._dte_async_build_request()
        self.assertEqual(request['receiver']['exchange_email'], 'dte@cliente.cl')
        with self.assertRaises(ValidationError):
            partner.dte_async_exchange_email = 'DTE <dte@cliente.cl>'

    def test_send_queues_and_logs(self):
        invoice = self._create_move()
        before = invoice.message_ids[:1].id
        with self.mock_enqueue() as calls:
            invoice.action_dte_async_send()
        self.assertEqual(len(calls), 1)
        call = calls[0]
        self.assertEqual(call['url'], 'http://enqueue.invalid/')
        self.assertEqual(call['secret'], SENDING_SECRET)
        body = json.loads(call['body'])
        self.assertEqual(body['odoo']['move_id'], invoice.id)
        key = f"{COMPANY_RUT}-33-{int(invoice.l10n_latam_document_number)}"
        self.assertEqual(invoice.dte_async_status, 'queued')
        self.assertEqual(invoice.dte_async_dtekey, key)
        self.assertTrue(invoice.dte_async_last_update)
        self.assertFalse(invoice.dte_async_can_send)
        bodies = [b for b, _author in self.chatter_bodies(invoice, before)]
        self.assertTrue(any(f'Enviado a la cola de emisión (clave {key})' in b for b in bodies), bodies)
        # in flight: a second click is refused, nothing is posted
        with self.mock_enqueue() as calls, self.assertRaisesRegex(UserError, 'ya está en proceso'):
            invoice.action_dte_async_send()
        self.assertFalse(calls)

    def test_send_signature_is_valid(self):
        """The real client signs what it sends: check the header it builds."""
        invoice = self._create_move()
        captured = {}

        def fake_open(self_opener, req, timeout=None):
            captured['body'] = req.data
            captured['headers'] = dict(req.header_items())
            raise enqueue_client.urllib.error.URLError('stop here')

        with patch.object(enqueue_client.urllib.request.OpenerDirector, 'open', fake_open):
            with self.assertRaises(UserError):
                invoice.action_dte_async_send()
        header = captured['headers']['X-dte-signature']
        signature.verify([SENDING_SECRET], header, captured['body'], enqueue_client.time.time())
        self.assertEqual(captured['headers']['Content-type'], 'application/json')
        self.assertEqual(invoice.dte_async_status, 'not_sent')

    def test_400_shows_field_errors_in_spanish_and_changes_nothing(self):
        invoice = self._create_move()
        before = invoice.message_ids.ids
        result = enqueue_client.EnqueueResult('invalid', 400, problem=PROBLEM)
        with self.mock_enqueue(result), self.assertRaises(UserError) as ctx:
            invoice.action_dte_async_send()
        text = str(ctx.exception)
        self.assertIn('Línea 3 · precio unitario: tiene más decimales de los que admite el SII', text)
        self.assertEqual(invoice.dte_async_status, 'not_sent')
        self.assertFalse(invoice.dte_async_dtekey)
        self.assertEqual(invoice.message_ids.ids, before)

    def test_transport_errors_change_nothing(self):
        invoice = self._create_move()
        cases = {
            'unauthorized': (enqueue_client.EnqueueResult('unauthorized', 401), 'secreto de envío'),
            'unavailable': (enqueue_client.EnqueueResult('unavailable', 503, retry_after=5), 'Reintente en 5 segundos'),
            'server_error': (enqueue_client.EnqueueResult('server_error', 500), 'HTTP 500'),
            'timeout': (enqueue_client.EnqueueResult('timeout', timeout=10.0), 'no respondió dentro de 10 segundos'),
            'connection': (enqueue_client.EnqueueResult('connection', detail='Connection refused'), 'No se pudo conectar'),
        }
        for kind, (result, fragment) in cases.items():
            with self.subTest(kind=kind):
                with self.mock_enqueue(result), self.assertRaisesRegex(UserError, fragment):
                    invoice.action_dte_async_send()
                self.assertEqual(invoice.dte_async_status, 'not_sent')

    def test_missing_configuration(self):
        invoice = self._create_move()
        self.company.dte_async_sending_secret = False
        with self.mock_enqueue() as calls, self.assertRaisesRegex(UserError, 'Ajustes'):
            invoice.action_dte_async_send()
        self.assertFalse(calls)

    def test_incomplete_customer_is_explained_before_sending(self):
        invoice = self._create_move()
        # the customer's data changed after posting: sending says what is missing
        self.customer.write({'l10n_cl_activity_description': False, 'street': False})
        with self.mock_enqueue() as calls, self.assertRaises(UserError) as ctx:
            invoice.action_dte_async_send()
        self.assertFalse(calls)
        self.assertIn('no tiene giro', str(ctx.exception))
        self.assertIn('no tiene dirección', str(ctx.exception))

    def test_per_line_vat_rounding_is_explained(self):
        if self.company.tax_calculation_rounding_method != 'round_per_line':
            self.company.tax_calculation_rounding_method = 'round_per_line'
        invoice = self._create_move([('A', 1, 1003, self.vat_tax), ('B', 1, 1003, self.vat_tax)], post=False)
        self.assertEqual(invoice.amount_tax, 382)  # 191 + 191, the SII says round(2006 × 19 %) = 381
        # refused when posting, before a folio is spent
        with self.mock_enqueue() as calls, self.assertRaisesRegex(UserError, 'Redondear globalmente'), \
                self.env.cr.savepoint():  # what the user's request does: the posting is rolled back
            invoice.action_post()
        invoice.invalidate_recordset()
        self.assertEqual(invoice.state, 'draft')
        self.assertFalse(calls)

    def test_exempt_invoice_34(self):
        invoice = self._create_move([('Curso de capacitación', 12, 35000, None)], doc_xmlid='l10n_cl.dc_y_f_dte')
        self.assertEqual(invoice.l10n_latam_document_type_id.code, '34')
        request, _body = invoice._dte_async_build_request()
        self.assertEqual(request['document']['type'], 34)
        self.assertEqual(request['totals'], {'net': 0, 'exempt': 420000, 'vat': 0, 'total': 420000})

    def _refund(self, invoice, reason=None, **wizard_values):
        """A credit note made the way the user makes it: the reversal wizard."""
        wizard = self.env['account.move.reversal'].with_context(
            active_model='account.move', active_ids=invoice.ids).create({
                'date': invoice.invoice_date, 'reason': reason, 'journal_id': invoice.journal_id.id,
                **wizard_values})
        action = wizard.refund_moves()
        return self.env['account.move'].browse(action['res_id'])

    def test_credit_note_61_references_the_invoice(self):
        invoice = self._create_move()
        refund = self._refund(invoice, reason='Devolución total')
        refund.action_post()
        self.assertEqual(refund.move_type, 'out_refund')
        self.assertEqual(refund.l10n_latam_document_type_id.code, '61')
        self.assertEqual(refund.reversed_entry_id, invoice)
        self.assertEqual(refund.dte_async_reference_reason, 'Devolución total')
        request, _body = refund._dte_async_build_request()
        self.assertEqual(request['document']['type'], 61)
        self.assertEqual(request['references'], [{
            'type': '33',
            'folio': str(int(invoice.l10n_latam_document_number)),
            'date': str(invoice.invoice_date),
            'code': 1,  # full reversal: anula
            'reason': 'Devolución total',  # the wizard's reason, not Odoo's "Reversal of: ..."
        }])
        self.assertEqual(request['totals']['total'], refund.amount_total)
        with self.mock_enqueue() as calls:
            refund.action_dte_async_send()
        self.assertEqual(len(calls), 1)
        self.assertEqual(refund.dte_async_status, 'queued')

    def test_reference_reason_defaults_in_spanish(self):
        invoice = self._create_move()
        full = self._refund(invoice)
        self.assertIn('Reversal of', full.ref or 'Reversal of')  # Odoo's own reference stays Odoo's
        full.action_post()
        ref = full._dte_async_build_request()[0]['references'][0]
        self.assertEqual((ref['code'], ref['reason']), (1, f'Anula documento {invoice.name}'))
        self.assertTrue(ref['reason'].startswith('Anula documento FAC '), ref)

        partial = self._refund(invoice)
        partial.write({'invoice_line_ids': [(5, 0, 0), (0, 0, {
            'name': 'Descuento comercial', 'quantity': 1, 'price_unit': 10000,
            'tax_ids': [(6, 0, self.vat_tax.ids)]})]})
        partial.action_post()
        ref = partial._dte_async_build_request()[0]['references'][0]
        self.assertEqual((ref['code'], ref['reason']), (3, 'Corrige montos'))

        text = self._refund(invoice)
        text.dte_async_reference_code = '2'
        text.action_post()
        ref = text._dte_async_build_request()[0]['references'][0]
        self.assertEqual((ref['code'], ref['reason']), (2, 'Corrige texto'))

    def test_credit_note_without_origin_is_refused(self):
        refund = self._create_move(move_type='out_refund', post=False)
        self.assertEqual(refund.l10n_latam_document_type_id.code, '61')
        with self.assertRaisesRegex(UserError, 'debe indicar el documento que modifica'), self.env.cr.savepoint():
            refund.action_post()
        refund.invalidate_recordset()
        self.assertEqual(refund.state, 'draft')

    def test_debit_note_56(self):
        if 'account.debit.note' not in self.env:
            self.skipTest('account_debit_note is not installed')
        invoice = self._create_move()
        wizard = self.env['account.debit.note'].with_context(
            active_model='account.move', active_ids=invoice.ids).create({
                'reason': 'Intereses por mora', 'date': invoice.invoice_date})
        action = wizard.create_debit()
        debit = self.env['account.move'].browse(action['res_id'])
        debit.write({
            'l10n_latam_document_type_id': self.env.ref('l10n_cl.dc_nd_f_dte').id,
            'invoice_line_ids': [(5, 0, 0), (0, 0, {'name': 'Intereses', 'quantity': 1, 'price_unit': 12500,
                                                   'tax_ids': [(6, 0, self.vat_tax.ids)]})],
        })
        debit.action_post()
        self.assertEqual(debit._dte_async_origin_move(), invoice)
        request, _body = debit._dte_async_build_request()
        self.assertEqual(request['document']['type'], 56)
        self.assertEqual(request['references'][0]['type'], '33')
        self.assertEqual(request['references'][0]['code'], 3)
        self.assertEqual(request['references'][0]['reason'], 'Intereses por mora')  # the wizard's reason

    def test_send_many_reports_each_document(self):
        good = self._create_move()
        bad_customer = self.customer.copy({'vat': '96790240-3'})
        bad = self._create_move(partner_id=bad_customer.id)
        bad_customer.l10n_cl_activity_description = False  # after posting: found when sending
        draft = self._create_move(post=False)
        with self.mock_enqueue() as calls:
            action = (good | bad | draft).action_dte_async_send_many()
        self.assertEqual(len(calls), 1)
        self.assertEqual(good.dte_async_status, 'queued')
        self.assertEqual(bad.dte_async_status, 'not_sent')
        self.assertEqual(action['tag'], 'display_notification')
        message = action['params']['message']
        self.assertIn('1 enviado(s) a la cola', message)
        self.assertIn('1 con error', message)
        self.assertIn('1 omitido(s)', message)
        self.assertEqual(action['params']['type'], 'warning')
        self.assertEqual(action['params']['next'], {'type': 'ir.actions.client', 'tag': 'soft_reload'})
        # one line per document, and a class whose style keeps the line breaks
        self.assertIn('1 con error:\n', message)
        self.assertIn('\n\n1 omitido(s):\n', message)
        self.assertEqual(action['params']['className'], 'o_dte_async_notification')

    def test_server_action_calls_send_many(self):
        action = self.env.ref('l10n_cl_dte_async.action_dte_async_send_many')
        self.assertEqual(action.binding_model_id.model, 'account.move')
        invoice = self._create_move()
        with self.mock_enqueue() as calls:
            result = action.with_context(active_model='account.move', active_ids=invoice.ids,
                                         active_id=invoice.id).run()
        self.assertEqual(len(calls), 1)
        self.assertEqual(result['tag'], 'display_notification')
        self.assertEqual(invoice.dte_async_status, 'queued')

    def test_auto_send_on_post(self):
        self.company.dte_async_auto_send = True
        scheduled = []
        original = type(self.env['account.move'])._dte_async_schedule_auto_send

        def spy(moves):
            scheduled.append(moves)
            return original(moves)

        with patch.object(type(self.env['account.move']), '_dte_async_schedule_auto_send', spy):
            invoice = self._create_move()
            self._create_move(lines=[('Sin IVA', 1, 1000, None)], doc_xmlid='l10n_cl.dc_y_f_dte')
        self.assertEqual(len(scheduled), 2)
        self.assertIn(invoice, scheduled[0])
        # what the post-commit hook runs
        with self.mock_enqueue() as calls:
            invoice._dte_async_auto_send()
        self.assertEqual(len(calls), 1)
        self.assertEqual(invoice.dte_async_status, 'queued')

    def test_auto_send_failure_goes_to_the_chatter(self):
        self.company.dte_async_auto_send = True
        with patch.object(type(self.env['account.move']), '_dte_async_schedule_auto_send', lambda moves: None):
            invoice = self._create_move()
        before = invoice.message_ids[:1].id
        with self.mock_enqueue(enqueue_client.EnqueueResult('unavailable', 503)):
            invoice._dte_async_auto_send()  # must not raise
        self.assertEqual(invoice.dte_async_status, 'not_sent')
        notes = self.chatter_bodies(invoice, before)
        self.assertTrue(any('No se pudo enviar el DTE automáticamente' in body and author == self.bot
                            for body, author in notes), notes)

    def test_no_auto_send_when_disabled(self):
        self.company.dte_async_auto_send = False
        with patch.object(type(self.env['account.move']), '_dte_async_schedule_auto_send') as schedule:
            self._create_move()
        schedule.assert_not_called()

    def test_settings_fields(self):
        settings = self.env['res.config.settings'].create({})
        self.assertEqual(settings.dte_async_acteco, '476101, 741000')
        self.assertTrue(settings.dte_async_callback_url.endswith('/api/dte/callback'))
        self.assertEqual(settings.dte_async_database, self.env.cr.dbname)
        settings.dte_async_enqueue_url = 'https://dte.example.cl/'
        settings.execute()
        self.assertEqual(self.company.dte_async_enqueue_url, 'https://dte.example.cl/')
        with self.assertRaises(ValidationError):
            self.company.dte_async_acteco = 'not a code'
