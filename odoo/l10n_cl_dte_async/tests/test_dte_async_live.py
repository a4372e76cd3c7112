import datetime
import json
import threading
import time

import requests

from odoo.tests import HttpCase, tagged
from odoo.tests.common import TEST_CURSOR_COOKIE_NAME

from ..dtelib import signature
from ..models.account_move import BUS_SUBCHANNEL
from .common import CALLBACK_SECRET, DteAsyncCommon

# Generous: a slow machine makes the test slower, never red.
SUBSCRIBE_TIMEOUT = 60


@tagged('post_install', '-at_install', 'post_install_l10n')
class TestDteAsyncLiveForm(DteAsyncCommon, HttpCase):
    """An open invoice form shows the pipeline's statuses as they arrive (bus, no reload).

    A browser tour (Chromium) opens the queued invoice; once its websocket
    follows the invoice's channel, the pipeline's callbacks are posted, signed,
    to /api/dte/callback, and the tour waits for «Aceptado» and the chatter.
    """

    def test_open_form_follows_the_pipeline(self):
        invoice = self._create_move()
        with self.mock_enqueue():
            invoice.action_dte_async_send()
        key = invoice.dte_async_dtekey
        channel = (self.env.cr.dbname, 'account.move', invoice.id, BUS_SUBCHANNEL)
        outcome = {}

        def pipeline():
            from odoo.addons.bus.models.bus import dispatch  # the server's websocket subscriptions
            deadline = time.monotonic() + SUBSCRIBE_TIMEOUT
            while channel not in dispatch._channels_to_ws:
                if time.monotonic() > deadline:
                    outcome['error'] = f'the form never followed {channel} on the bus'
                    return
                time.sleep(0.05)
            answers = []
            t0 = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
            for minutes, (status, extra) in enumerate([
                ('signed', {}),
                ('sent', {'track_id': '4242', 'sii_state': 'REC'}),
                ('accepted', {'track_id': '4242', 'sii_state': 'EPR', 'message': 'Envío procesado'}),
            ], start=1):
                body = json.dumps({
                    'event_id': f'{key}.{status}.live', 'dtekey': key, 'move_id': invoice.id, 'status': status,
                    'track_id': '', 'sii_state': '', 'message': '',
                    'occurred_at': (t0 + datetime.timedelta(seconds=minutes)).strftime('%Y-%m-%dT%H:%M:%SZ'),
                    **extra}).encode()
                response = requests.post(
                    self.base_url() + '/api/dte/callback', data=body, timeout=60,
                    cookies={TEST_CURSOR_COOKIE_NAME: self.http_request_key},
                    headers={'Content-Type': 'application/json', 'X-Odoo-Database': self.env.cr.dbname,
                             signature.HEADER: signature.sign(CALLBACK_SECRET, body, time.time())})
                answers.append((response.status_code, response.json().get('result')))
            outcome['answers'] = answers

        thread = threading.Thread(target=pipeline, name='dte-pipeline')
        thread.start()
        try:
            self.start_tour(f'/odoo/account.move/{invoice.id}', 'l10n_cl_dte_async_live_status',
                            login='accountman', timeout=180)
        finally:
            thread.join(SUBSCRIBE_TIMEOUT + 60)
        self.assertNotIn('error', outcome, outcome.get('error'))
        self.assertEqual(outcome['answers'], [(200, 'applied')] * 3)
