from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from ..dtelib import messages, transitions
from .common import DteAsyncCommon


@tagged('post_install', '-at_install', 'post_install_l10n')
class TestDteAsyncFrozen(DteAsyncCommon):
    """Once the pipeline has a document, its DTE content never changes in Odoo."""

    def _sent(self, status):
        """A posted invoice the pipeline has, in ``status``."""
        invoice = self._create_move()
        with self.mock_enqueue():
            invoice.action_dte_async_send()
        if status != 'queued':
            invoice.write({'dte_async_status': status})
        return invoice

    def assertRefused(self, status, fragment, call):
        label = messages.STATUS_LABELS[status]
        with self.assertRaises(UserError) as ctx:
            call()
        text = str(ctx.exception)
        self.assertIn(fragment, text)
        self.assertIn(f'su DTE está «{label}»', text)
        return text

    def test_every_frozen_status_refuses_reset_cancel_delete_and_edits(self):
        other = self.customer.copy({'name': 'Otro Cliente SpA', 'vat': '96790240-3'})
        for status in sorted(transitions.FROZEN):
            with self.subTest(status=status):
                invoice = self._sent(status)
                name = invoice.name
                self.assertFalse(invoice.show_reset_to_draft_button)
                text = self.assertRefused(status, f'No se puede volver a borrador {name}', invoice.button_draft)
                self.assertIn(messages.frozen_next_step(status), text)
                self.assertRefused(status, f'No se puede cancelar {name}', invoice.button_cancel)
                self.assertRefused(status, f'No se puede eliminar {name}', invoice.unlink)
                self.assertRefused(status, 'No se puede modificar', lambda: invoice.write({'partner_id': other.id}))
                self.assertRefused(status, 'No se puede modificar',
                                   lambda: invoice.write({'invoice_date': fields.Date.add(invoice.invoice_date, days=-1)}))
                self.assertRefused(status, 'No se puede volver a borrador', lambda: invoice.write({'state': 'draft'}))
                line = invoice.invoice_line_ids[0]
                self.assertRefused(status, 'Líneas de factura', lambda: line.write({'price_unit': 118999}))
                self.assertRefused(status, 'Líneas de factura', line.unlink)
                self.assertRefused(status, 'Líneas de factura', lambda: self.env['account.move.line'].create({
                    'move_id': invoice.id, 'name': 'Extra', 'quantity': 1, 'price_unit': 1000,
                    'display_type': 'product'}))
                self.assertEqual((invoice.state, invoice.name, invoice.amount_total), ('posted', name, 208250))
                # writing what is already there, and fields that are not in the DTE, is fine
                invoice.write({'dte_async_transfer_type': invoice.dte_async_transfer_type,
                               'narration': 'Nota interna'})

    def test_a_payment_and_a_credit_note_still_work(self):
        invoice = self._sent('accepted')
        self.env['account.payment.register'].with_context(
            active_model='account.move', active_ids=invoice.ids).create({})._create_payments()
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        wizard = self.env['account.move.reversal'].with_context(
            active_model='account.move', active_ids=invoice.ids).create({
                'date': invoice.invoice_date, 'reason': 'Anulación', 'journal_id': invoice.journal_id.id})
        refund = self.env['account.move'].browse(wizard.refund_moves()['res_id'])
        refund.action_post()
        self.assertEqual(refund.l10n_latam_document_type_id.code, '61')
        self.assertEqual(invoice.dte_async_status, 'accepted')

    def test_not_sent_documents_are_free(self):
        invoice = self._create_move()
        invoice.button_draft()
        invoice.write({'invoice_line_ids': [Command.update(invoice.invoice_line_ids[0].id, {'price_unit': 160000})]})
        invoice.action_post()
        self.assertEqual(invoice.state, 'posted')
        invoice.button_draft()
        invoice.button_cancel()
        self.assertEqual(invoice.state, 'cancel')

    def test_rejected_is_cancelled_and_reissued_never_reposted(self):
        invoice = self._sent('rejected')
        name = invoice.name
        self.assertTrue(invoice.show_reset_to_draft_button)
        invoice.button_draft()  # allowed: the SII never accepted it
        self.assertEqual(invoice.state, 'draft')
        # the folio is bound to what was sent: no re-posting, no deleting
        text = self.assertRefused('rejected', f'No se puede validar de nuevo {name}', invoice.action_post)
        self.assertIn('emita un documento nuevo', text)
        self.assertRefused('rejected', f'No se puede eliminar {name}', invoice.unlink)
        invoice.button_cancel()
        self.assertEqual(invoice.state, 'cancel')
        # reissue: a copy is a new document with a new folio
        reissued = invoice.copy({'invoice_date': invoice.invoice_date})
        self.assertEqual(reissued.dte_async_status, 'not_sent')
        reissued.action_post()
        self.assertNotEqual(reissued.name, name)
        self.assertGreater(int(reissued.l10n_latam_document_number), int(invoice.l10n_latam_document_number))

    def test_deleting_a_queued_draft_cannot_free_its_folio(self):
        """The issue's case: a folio reused by the next invoice ("folio already used")."""
        invoice = self._sent('queued')
        folio = invoice.l10n_latam_document_number
        with self.assertRaises(UserError):
            invoice.button_draft()
        with self.assertRaises(UserError):
            invoice.unlink()
        following = self._create_move()
        self.assertGreater(int(following.l10n_latam_document_number), int(folio))


@tagged('post_install', '-at_install', 'post_install_l10n')
class TestDteAsyncCheckedWhenPosting(DteAsyncCommon):
    """Posting runs the request's checks, so an unsendable document spends no folio."""

    def test_incomplete_customer_refused_when_posting(self):
        self.customer.write({'l10n_cl_activity_description': False, 'street': False})
        invoice = self._create_move(post=False)
        with self.mock_enqueue() as calls, self.assertRaises(UserError) as ctx, self.env.cr.savepoint():
            invoice.action_post()
        invoice.invalidate_recordset()
        text = str(ctx.exception)
        self.assertIn('No se puede validar', text)
        self.assertIn('no tiene giro', text)
        self.assertIn('no tiene dirección', text)
        self.assertIn('no se usó ningún folio', text)
        self.assertFalse(calls)
        self.assertEqual(invoice.state, 'draft')
        self.assertIn(invoice.name, ('/', False))
        # no folio was spent: fixing the customer, it gets the first number
        self.customer.write({'l10n_cl_activity_description': 'Importación', 'street': 'Camino 1'})
        invoice.action_post()
        self.assertEqual(invoice.state, 'posted')
        self.assertEqual(int(invoice.l10n_latam_document_number), 1)

    def test_more_than_60_lines_refused_when_posting(self):
        invoice = self._create_move([(f'Artículo {i}', 1, 1000, self.vat_tax) for i in range(61)], post=False)
        with self.assertRaisesRegex(UserError, 'tiene 61 líneas; el SII admite a lo más 60'), \
                self.env.cr.savepoint():
            invoice.action_post()
        invoice.invalidate_recordset()
        self.assertEqual(invoice.state, 'draft')
        self.assertIn(invoice.name, ('/', False))  # no folio
        exactly = self._create_move([(f'Artículo {i}', 1, 1000, self.vat_tax) for i in range(60)])
        self.assertEqual(exactly.state, 'posted')

    def test_company_without_the_pipeline_is_not_checked(self):
        """A Chilean company that does not use the pipeline posts as community l10n_cl does."""
        self.company.dte_async_enqueue_url = False
        self.customer.write({'l10n_cl_activity_description': False})
        invoice = self._create_move()
        self.assertEqual(invoice.state, 'posted')
