import base64
import datetime
import hashlib
import json
import time

from unittest.mock import MagicMock, patch

from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from ..controllers.callback import MAX_BODY_BYTES
from ..dtelib import signature
from ..models.account_move import BUS_SUBCHANNEL, BUS_TYPE
from .common import CALLBACK_SECRET, DteAsyncCommon

ROUTE = '/api/dte/callback'


@tagged('post_install', '-at_install', 'post_install_l10n')
class TestDteAsyncCallback(DteAsyncCommon, HttpCase):
    """POST /api/dte/callback through Odoo's HTTP stack, as the notify function does."""

    def setUp(self):
        super().setUp()
        self.invoice = self._create_move()
        self.dtekey = self.invoice._dte_async_expected_dtekey()
        self.invoice.write({'dte_async_status': 'queued', 'dte_async_dtekey': self.dtekey})
        self.t0 = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        self.marks = {}
        self._mark(self.invoice)

    def _mark(self, move):
        """Remember the move's last message once pending tracking is written."""
        self.env.flush_all()
        self.env.cr.precommit.run()  # tracking of the posting and of the writes above
        self.env.flush_all()
        self.marks[move.id] = max(move.message_ids.ids or [0])

    def _payload(self, status, event_id, minutes=0, **fields):
        payload = {
            'event_id': event_id,
            'dtekey': self.dtekey,
            'move_id': self.invoice.id,
            'status': status,
            'track_id': '',
            'sii_state': '',
            'message': '',
            'occurred_at': (self.t0 + datetime.timedelta(minutes=minutes)).strftime('%Y-%m-%dT%H:%M:%SZ'),
        }
        payload.update(fields)
        return payload

    def _post(self, payload, secret=CALLBACK_SECRET, timestamp=None, raw=None, headers=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        all_headers = {
            'Content-Type': 'application/json',
            'X-Odoo-Database': self.env.cr.dbname,
            signature.HEADER: signature.sign(secret, body, timestamp if timestamp is not None else time.time()),
        }
        all_headers.update(headers or {})
        response = self.url_open(ROUTE, data=body, headers=all_headers)
        self.env.invalidate_all()
        return response

    def _new_messages(self, move=None):
        """Messages posted since the move was marked: those the callbacks made."""
        move = move or self.invoice
        return move.message_ids.filtered(lambda m: m.id > self.marks[move.id]).sorted('id')

    def assertChatter(self, move, text):
        bodies = [m.body for m in self._new_messages(move) if m.body]
        self.assertTrue(any(text in body for body in bodies), f'{text!r} not in {bodies}')
        for message in self._new_messages(move):
            self.assertEqual(message.author_id, self.bot, message.body)

    def assertAnswer(self, response, status, result=None):
        self.assertEqual(response.status_code, status, response.text)
        self.assertTrue(response.headers.get('Content-Type', '').startswith('application/json'),
                        response.headers.get('Content-Type'))
        if result:
            self.assertEqual(response.json()['result'], result)

    def test_accepted_flow_and_chatter(self):
        self.assertAnswer(self._post(self._payload('signed', 'ev-signed', 1)), 200, 'applied')
        self.assertEqual(self.invoice.dte_async_status, 'signed')
        self.assertAnswer(self._post(self._payload('sent', 'ev-sent', 2, track_id='123456', sii_state='REC',
                                                   trace_id='4bf92f3577b34da6a3ce929d0e0e4736')),
                          200, 'applied')
        self.assertEqual(self.invoice.dte_async_status, 'sent')
        self.assertEqual(self.invoice.dte_async_track_id, '123456')
        self.assertEqual(self.invoice.dte_async_trace_id, '4bf92f3577b34da6a3ce929d0e0e4736')
        self.assertAnswer(self._post(self._payload('accepted', 'ev-acc', 3, track_id='123456', sii_state='EPR',
                                                   message='Envio Procesado')), 200, 'applied')
        self.assertEqual(self.invoice.dte_async_status, 'accepted')
        self.assertEqual(self.invoice.dte_async_sii_code, 'EPR')
        self.assertEqual(self.invoice.dte_async_sii_message, 'Envio Procesado')
        self.assertEqual(self.invoice.dte_async_last_update, (self.t0 + datetime.timedelta(minutes=3)).replace(tzinfo=None))
        self.assertEqual(len(self.invoice.dte_async_event_ids), 3)

        messages = self._new_messages()
        texts = [m.body for m in messages if m.body]
        self.assertTrue(any('Enviado al SII (TrackID 123456)' in t for t in texts), texts)
        self.assertTrue(any('Aceptado por el SII' in t for t in texts), texts)
        public = self.env.ref('base.public_partner')
        for message in messages:
            self.assertEqual(message.author_id, self.bot, message.body)
            self.assertNotEqual(message.author_id, public)
        tracked = messages.filtered('tracking_value_ids')
        self.assertTrue(tracked, 'the status change is tracked')
        self.assertEqual(tracked.author_id, self.bot)

    def test_rejected_objected_and_error_messages(self):
        other = self._create_move()
        other_key = other._dte_async_expected_dtekey()
        other.write({'dte_async_status': 'sent', 'dte_async_dtekey': other_key})
        self._mark(other)
        self.assertAnswer(self._post(self._payload('rejected', 'ev-rch', 1, sii_state='RCH',
                                                   message='DTE Rechazado: RUT receptor no autorizado')),
                          200, 'applied')
        self.assertEqual(self.invoice.dte_async_status, 'rejected')
        self.assertChatter(self.invoice, 'Rechazado: DTE Rechazado: RUT receptor no autorizado')
        # ... and what to do next: a new document; the detail comes by the SII's e-mail
        self.assertChatter(self.invoice, 'emita un documento nuevo')
        self.assertChatter(self.invoice, 'correo del SII')

        payload = self._payload('objected', 'ev-rpr', 1, sii_state='RPR', message='Reparo: giro del receptor')
        payload.update(move_id=other.id, dtekey=other_key)
        self.assertAnswer(self._post(payload), 200, 'applied')
        self.assertEqual(other.dte_async_status, 'objected')
        self.assertChatter(other, 'Aceptado con reparos por el SII: Reparo: giro del receptor')

        third = self._create_move()
        third_key = third._dte_async_expected_dtekey()
        third.write({'dte_async_status': 'signed', 'dte_async_dtekey': third_key})
        self._mark(third)
        payload = self._payload('error', 'ev-err', 1, message='submit: SII no disponible tras 3 intentos')
        payload.update(move_id=third.id, dtekey=third_key)
        self.assertAnswer(self._post(payload), 200, 'applied')
        self.assertEqual(third.dte_async_status, 'error')
        self.assertChatter(third, 'Error: submit: SII no disponible tras 3 intentos')
        self.assertTrue(third.dte_async_can_send)  # an error can be sent again
        # a replayed dead letter, later, completes the document
        payload = self._payload('sent', 'ev-replay', 5, track_id='777')
        payload.update(move_id=third.id, dtekey=third_key)
        self.assertAnswer(self._post(payload), 200, 'applied')
        self.assertEqual(third.dte_async_status, 'sent')

    def test_retrying_then_done_and_a_late_error_on_a_final_document(self):
        next_at = (self.t0 + datetime.timedelta(minutes=2)).strftime('%Y-%m-%dT%H:%M:%SZ')
        text = 'Falló la firma (intento 3): S3 no responde. Próximo intento automático: 2026-03-02 10:01 UTC'
        self.assertAnswer(self._post(self._payload('retrying', 'ev-retry', 1, message=text, next_attempt_at=next_at)),
                          200, 'applied')
        self.assertEqual(self.invoice.dte_async_status, 'retrying')
        self.assertChatter(self.invoice, 'Reintentando automáticamente')
        self.assertChatter(self.invoice, 'Próximo intento automático')
        self.assertFalse(self.invoice.dte_async_can_send)  # the pipeline is on it
        self.assertAnswer(self._post(self._payload('signed', 'ev-signed', 3)), 200, 'applied')
        self.assertAnswer(self._post(self._payload('accepted', 'ev-acc', 4)), 200, 'applied')
        self._mark(self.invoice)
        # A changed request under the same folio failed: the document stays
        # accepted, and the chatter says that nothing was issued for it.
        self.assertAnswer(self._post(self._payload('error', 'ev-used', 5, message='Falló la firma: folio already used')),
                          200, 'ignored')
        self.assertEqual(self.invoice.dte_async_status, 'accepted')
        self.assertChatter(self.invoice, 'Aviso: el pipeline informó un error para este documento')

    def test_duplicates_and_out_of_order(self):
        self.assertAnswer(self._post(self._payload('sent', 'ev-sent', 2, track_id='42')), 200, 'applied')
        count = len(self._new_messages())
        self.assertAnswer(self._post(self._payload('sent', 'ev-sent', 2, track_id='42')), 200, 'duplicate')
        self.assertAnswer(self._post(self._payload('signed', 'ev-signed', 1)), 200, 'ignored')
        self.assertEqual(self.invoice.dte_async_status, 'sent')
        self.assertEqual(len(self._new_messages()), count, 'no message for duplicates or ignored events')
        self.assertAnswer(self._post(self._payload('accepted', 'ev-acc', 4)), 200, 'applied')
        self.assertAnswer(self._post(self._payload('error', 'ev-err', 5, message='late')), 200, 'ignored')
        self.assertEqual(self.invoice.dte_async_status, 'accepted')
        events = self.invoice.dte_async_event_ids
        self.assertEqual(sorted(events.mapped('event_id')), ['ev-acc', 'ev-err', 'ev-sent', 'ev-signed'])
        self.assertEqual(set(events.filtered(lambda e: e.result == 'ignored').mapped('event_id')),
                         {'ev-signed', 'ev-err'})

    def test_rejections(self):
        payload = self._payload('accepted', 'ev-x', 1)
        self.assertAnswer(self._post(payload, secret='not-the-secret'), 401)
        self.assertAnswer(self._post(payload, timestamp=time.time() - 600), 401)
        self.assertAnswer(self._post(payload, timestamp=time.time() + 600), 401)
        self.assertAnswer(self._post(payload, headers={signature.HEADER: 'garbage'}), 401)
        self.assertAnswer(self._post(dict(payload, move_id=self.invoice.id + 100000)), 404)
        self.assertAnswer(self._post(dict(payload, dtekey=self.dtekey + '0')), 409)
        self.assertAnswer(self._post(dict(payload, status='finished')), 400)
        self.assertAnswer(self._post(None, raw=b'{not json'), 400)
        self.assertEqual(self.invoice.dte_async_status, 'queued')
        self.assertFalse(self.invoice.dte_async_event_ids)
        self.assertFalse(self._new_messages())

    def test_other_company_secret_is_refused(self):
        other_company = self.setup_other_company(name='Otra Empresa SpA')['company']
        other_company.sudo().dte_async_callback_secret = 'another-secret'
        self.assertAnswer(self._post(self._payload('accepted', 'ev-y', 1), secret='another-secret'), 401)
        self.assertEqual(self.invoice.dte_async_status, 'queued')

    def _bus_notifications(self, move):
        channel = json.dumps([self.env.cr.dbname, 'account.move', move.id, BUS_SUBCHANNEL], separators=(',', ':'))
        rows = self.env['bus.bus'].sudo().search([('channel', '=', channel)], order='id')
        return [json.loads(row.message) for row in rows]

    def test_status_change_is_notified_on_the_bus(self):
        """An open form of the invoice learns about each applied status at once."""
        before = len(self._bus_notifications(self.invoice))
        self.assertAnswer(self._post(self._payload('sent', 'ev-bus-sent', 1, track_id='4242')), 200, 'applied')
        self.assertAnswer(self._post(self._payload('accepted', 'ev-bus-acc', 2, track_id='4242', sii_state='EPR')),
                          200, 'applied')
        self.assertAnswer(self._post(self._payload('signed', 'ev-bus-late', 0)), 200, 'ignored')
        notes = self._bus_notifications(self.invoice)[before:]
        self.assertEqual([n['type'] for n in notes], [BUS_TYPE, BUS_TYPE])  # nothing for the ignored one
        self.assertEqual([n['payload']['status'] for n in notes], ['sent', 'accepted'])
        self.assertEqual(notes[-1]['payload'], {'model': 'account.move', 'id': self.invoice.id,
                                                'status': 'accepted', 'track_id': '4242'})

    def test_bus_channel_needs_read_access(self):
        channel = f'l10n_cl_dte_async.account.move_{self.invoice.id}'

        def channels_of(user, asked):
            wsrequest = MagicMock()
            wsrequest.session.uid = user.id
            with patch('odoo.addons.bus.models.ir_websocket.wsrequest', new=wsrequest):
                found = self.env['ir.websocket'].with_user(user)._build_bus_channel_list(asked)
            return [c for c in found if isinstance(c, tuple) and c[-1:] == (BUS_SUBCHANNEL,)], found

        accountant = new_test_user(self.env, login='dte_accountant', groups='account.group_account_invoice',
                                   company_id=self.company.id, company_ids=[(6, 0, self.company.ids)])
        ours, found = channels_of(accountant, [channel])
        self.assertEqual(ours, [(self.invoice, BUS_SUBCHANNEL)])
        self.assertNotIn(channel, [c for c in found if isinstance(c, str)])  # not a channel of its own
        self.assertFalse(channels_of(accountant, ['l10n_cl_dte_async.account.move_999999999'])[0])
        self.assertFalse(channels_of(accountant, [f'l10n_cl_dte_async.account.move_{self.invoice.id}x'])[0])
        employee = new_test_user(self.env, login='dte_employee', groups='base.group_user')
        self.assertFalse(channels_of(employee, [channel])[0])  # may not read invoices

    def _files(self, pdf=b'%PDF-1.4 DTE con timbre', xml=b'<?xml version="1.0"?><EnvioDTE/>'):
        key = self.dtekey
        def one(kind, name, mimetype, data):
            return {'kind': kind, 'name': name, 'mimetype': mimetype, 'archive_key': f'{kind}/{key}',
                    'sha256': hashlib.sha256(data).hexdigest(), 'size': len(data),
                    'data': base64.b64encode(data).decode()}
        return [one('pdf', f'{key}.pdf', 'application/pdf', pdf),
                one('receiver_envelope', f'EnvioDTE-{key}.xml', 'application/xml', xml)]

    def _dte_attachments(self):
        return self.env['ir.attachment'].search([('res_model', '=', 'account.move'), ('res_id', '=', self.invoice.id),
                                                 ('name', 'like', self.dtekey)])

    def test_accepted_attaches_the_pdf_and_the_receiver_xml(self):
        """Issue 16: an accepted invoice holds the printed DTE and the receiver's
        EnvioDTE, once however often the callback comes, and offers them to
        «Enviar e imprimir» and the Print menu."""
        files = self._files()
        self.assertAnswer(self._post(self._payload('accepted', 'ev-acc', 3, track_id='1', sii_state='EPR',
                                                   attachments=files)), 200, 'applied')
        self.assertEqual(self.invoice.dte_async_status, 'accepted')
        attached = self._dte_attachments()
        self.assertEqual(sorted(attached.mapped('name')), sorted(f['name'] for f in files))
        pdf, xml = self.invoice.dte_async_pdf_id, self.invoice.dte_async_receiver_xml_id
        self.assertEqual(pdf.raw, b'%PDF-1.4 DTE con timbre')
        self.assertEqual(pdf.mimetype, 'application/pdf')
        self.assertEqual(xml.raw, b'<?xml version="1.0"?><EnvioDTE/>')
        self.assertEqual((pdf | xml), attached)
        self.assertChatter(self.invoice, 'Documentos del DTE adjuntos')
        # replayed: the same event is a duplicate; the same files under another
        # event id (a dead letter replayed) attach nothing either
        self.assertAnswer(self._post(self._payload('accepted', 'ev-acc', 3, attachments=files)), 200, 'duplicate')
        self.assertAnswer(self._post(self._payload('accepted', 'ev-acc-again', 3, attachments=files)), 200, 'ignored')
        self.assertEqual(self._dte_attachments(), attached)
        self.assertEqual(self.invoice.dte_async_pdf_id, pdf)
        # «Enviar e imprimir» sends them; the Print menu offers the PDF
        extra = self.env['account.move.send']._get_invoice_extra_attachments(self.invoice)
        self.assertIn(pdf, extra)
        self.assertIn(xml, extra)
        action = self.env.ref('l10n_cl_dte_async.action_dte_async_print_pdf')
        self.assertEqual(action.binding_type, 'report')
        result = action.with_context(active_model='account.move', active_ids=self.invoice.ids,
                                     active_id=self.invoice.id).run()
        self.assertEqual(result['type'], 'ir.actions.act_url')
        self.assertIn(f'/web/content/{pdf.id}', result['url'])

    def test_accepted_without_files_says_why(self):
        payload = self._payload('accepted', 'ev-acc', 3, attachments_error='handover: cannot print')
        self.assertAnswer(self._post(payload), 200, 'applied')
        self.assertFalse(self.invoice.dte_async_pdf_id)
        self.assertChatter(self.invoice, 'handover: cannot print')
        with self.assertRaises(UserError):
            self.invoice.action_dte_async_print_pdf()

    def test_bad_files_are_refused(self):
        files = self._files()
        files[0]['sha256'] = '0' * 64
        self.assertAnswer(self._post(self._payload('accepted', 'ev-acc', 3, attachments=files)), 400)
        self.assertEqual(self.invoice.dte_async_status, 'queued')
        self.assertFalse(self._dte_attachments())

    def test_body_over_the_limit_is_refused_before_reading(self):
        payload = self._payload('accepted', 'ev-big', 1, message='x' * (MAX_BODY_BYTES + 1))
        # correctly signed, but too large: refused from its Content-Length, by
        # the route's limit, before Odoo reads it (Odoo's own 413 page)
        response = self._post(payload)
        self.assertEqual(response.status_code, 413, response.text[:200])
        # without a Content-Length (chunked), even small: refused unread (notify always sends one)
        body = json.dumps(self._payload('accepted', 'ev-chunked', 1)).encode()
        headers = {'Content-Type': 'application/json', 'X-Odoo-Database': self.env.cr.dbname,
                   signature.HEADER: signature.sign(CALLBACK_SECRET, body, time.time())}
        chunks = (body[i:i + 64] for i in range(0, len(body), 64))
        response = self.url_open(ROUTE, data=chunks, headers=headers, timeout=30)
        self.env.invalidate_all()
        self.assertAnswer(response, 411)
        self.assertEqual(response.json()['error'], 'length required')
        self.assertEqual(self.invoice.dte_async_status, 'queued')
        self.assertFalse(self.invoice.dte_async_event_ids)
        # just under the limit is read and decided as usual
        small = self._payload('accepted', 'ev-small', 1, message='x' * 1000)
        self.assertAnswer(self._post(small), 200, 'applied')
