import json
import logging
import threading
import time
import uuid
from unittest.mock import patch

import requests

from odoo import Command, api, fields
from odoo.modules.registry import DummyRLock, Registry
from odoo.tests import HttpCase, get_db_name, tagged

from ..dtelib import enqueue_client, signature
from ..models.account_move import BUS_SUBCHANNEL
from .common import COMPANY_RUT

ROUTE = '/api/dte/callback'
# Long enough for a loaded machine; the test waits for an event, never a fixed time.
LOCK_WAIT_TIMEOUT = 30


class _Records(logging.Handler):
    """Every log record of every thread (the HTTP server's too), kept for the test."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@tagged('post_install', '-at_install', 'post_install_l10n')
class TestDteAsyncConcurrentSend(HttpCase):
    """«Enviar DTE (async)» and the pipeline's first callback, in two real transactions.

    In production the pipeline reports ``queued`` to /api/dte/callback while
    the button's transaction, which holds the invoice until enqueue has
    answered, is still open. With ``registry_test_mode = False`` the test
    server serves the callback with real cursors in their own transactions,
    as in production, so this is the real race. Nothing else can see the
    test transaction, so the invoice is committed, in a company of its own
    (the test database is fresh and dropped after the run).
    """

    registry_test_mode = False

    @classmethod
    def setUpClass(cls):
        # Before the test transaction exists: it must not hold locks the
        # committed setup needs.
        cls.fixture = cls._commit_invoice()
        super().setUpClass()
        # The test runner holds the registries' class lock while tests run;
        # the server's request threads must be able to look the registry up
        # (what test mode does too, without its shared test cursor).
        cls.startClassPatcher(patch.object(Registry, '_lock', DummyRLock()))

    @classmethod
    def _commit_invoice(cls):
        suffix = uuid.uuid4().hex[:8]
        with Registry(get_db_name()).cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            chile = env.ref('base.cl')
            rut_type = env.ref('l10n_cl.it_RUT')
            company = env['res.company'].create({'name': f'Concurrencia DTE {suffix}', 'country_id': chile.id})
            env['account.chart.template'].try_loading('cl', company, install_demo=False)
            company.partner_id.write({
                'country_id': chile.id, 'l10n_latam_identification_type_id': rut_type.id, 'vat': COMPANY_RUT,
                'l10n_cl_sii_taxpayer_type': '1', 'l10n_cl_activity_description': 'Servicios de prueba',
            })
            secret = f'callback-{suffix}'
            company.write({
                'street': 'Av. Apoquindo 3000', 'city': 'Las Condes', 'tax_calculation_rounding_method': 'round_globally',
                'dte_async_enqueue_url': 'http://enqueue.invalid/', 'dte_async_sending_secret': f'sending-{suffix}',
                'dte_async_callback_secret': secret, 'dte_async_resolution_number': 0,
                'dte_async_resolution_date': '2024-08-22', 'dte_async_acteco': '620200',
            })
            customer = env['res.partner'].create({
                'name': 'Cliente Concurrente SpA', 'is_company': True, 'country_id': chile.id,
                'l10n_latam_identification_type_id': rut_type.id, 'vat': '77654321-7',
                'l10n_cl_sii_taxpayer_type': '1', 'l10n_cl_activity_description': 'Comercio',
                'street': 'Calle Uno 1', 'city': 'Santiago', 'company_id': company.id,
            })
            move = env['account.move'].with_company(company).create({
                'move_type': 'out_invoice', 'partner_id': customer.id, 'invoice_date': fields.Date.today(),
                'invoice_line_ids': [Command.create({
                    'name': 'Asesoría', 'quantity': 1, 'price_unit': 10000,
                    'tax_ids': [Command.set(company.account_sale_tax_id.ids)]})],
            })
            move.action_post()
            return {'move_id': move.id, 'secret': secret, 'dtekey': move._dte_async_expected_dtekey(),
                    'database': cr.dbname}

    def _callback(self, status, event_id, **extra):
        payload = {'event_id': event_id, 'dtekey': self.fixture['dtekey'], 'move_id': self.fixture['move_id'],
                   'status': status, 'track_id': '', 'sii_state': '', 'message': '',
                   'occurred_at': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), **extra}
        body = json.dumps(payload).encode()
        headers = {'Content-Type': 'application/json', 'X-Odoo-Database': self.fixture['database'],
                   signature.HEADER: signature.sign(self.fixture['secret'], body, time.time())}
        response = requests.post(self.base_url() + ROUTE, data=body, headers=headers, timeout=60)
        return response.status_code, response.json()

    def _callback_waits_for_the_button(self):
        """True once a transaction waits for the invoice's row lock (the callback's)."""
        deadline = time.monotonic() + LOCK_WAIT_TIMEOUT
        with Registry(get_db_name()).cursor() as cr:
            while time.monotonic() < deadline:
                cr.execute("""
                    SELECT count(*) FROM pg_stat_activity
                     WHERE datname = current_database() AND wait_event_type = 'Lock'
                       AND query ILIKE '%%FROM account_move WHERE id = %%FOR NO KEY UPDATE%%'
                """)
                if cr.fetchone()[0]:
                    return True
                cr.rollback()
                time.sleep(0.05)
        return False

    def test_button_and_first_callback_do_not_fight(self):
        move_id, key = self.fixture['move_id'], self.fixture['dtekey']
        answers, waited, threads = {}, [], []

        def first_callback():
            answers['queued'] = self._callback('queued', f'{key}.queued')

        def enqueue_answers_after_the_pipeline(url, body, secret, timeout=None, now=None, opener=None):
            # The pipeline is faster than enqueue's 202: its «queued» reaches
            # Odoo while the button's transaction is open.
            thread = threading.Thread(target=first_callback, name='dte-callback')
            thread.start()
            threads.append(thread)
            waited.append(self._callback_waits_for_the_button())
            return enqueue_client.EnqueueResult('queued', 202, dtekey=key, event_id=f'{key}.requested')

        records = _Records()
        root = logging.getLogger()
        root.addHandler(records)
        try:
            with patch.object(enqueue_client, 'send', enqueue_answers_after_the_pipeline):
                with Registry(get_db_name()).cursor() as cr:
                    env = api.Environment(cr, api.SUPERUSER_ID, {})
                    env['account.move'].browse(move_id).action_dte_async_send()
            for thread in threads:
                thread.join(60)
            later = [
                self._callback('signed', f'{key}.signed'),
                self._callback('sent', f'{key}.sent', track_id='9001', sii_state='REC'),
                self._callback('accepted', f'{key}.accepted', track_id='9001', sii_state='EPR'),
            ]
        finally:
            root.removeHandler(records)

        self.assertEqual(waited, [True], 'the callback never waited for the button: the race was not exercised')
        self.assertEqual(answers['queued'], (200, {'result': 'ignored', 'event_id': f'{key}.queued',
                                                   'status': 'queued'}))
        self.assertEqual([answer for answer in later], [
            (200, {'result': 'applied', 'event_id': f'{key}.{status}', 'status': status})
            for status in ('signed', 'sent', 'accepted')])
        serialization = [r for r in records.records if 'serializ' in r.getMessage().lower()
                         or 'tries left' in r.getMessage()]
        self.assertFalse(serialization, [r.getMessage()[:300] for r in serialization])
        errors = [r for r in records.records if r.levelno >= logging.ERROR]
        self.assertFalse(errors, [f'{r.name}: {r.getMessage()[:300]}' for r in errors])

        with Registry(get_db_name()).cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            move = env['account.move'].browse(move_id)
            self.assertEqual((move.dte_async_status, move.dte_async_track_id, move.dte_async_sii_code),
                             ('accepted', '9001', 'EPR'))
            self.assertEqual(sorted(move.dte_async_event_ids.mapped('result')),
                             ['applied', 'applied', 'applied', 'ignored'])
            channel = json.dumps([cr.dbname, 'account.move', move_id, BUS_SUBCHANNEL], separators=(',', ':'))
            notes = env['bus.bus'].search([('channel', '=', channel)], order='id')
            self.assertEqual([json.loads(n.message)['payload']['status'] for n in notes],
                             ['queued', 'signed', 'sent', 'accepted'])
