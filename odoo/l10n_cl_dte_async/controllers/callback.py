import contextlib
import datetime
import logging
import time

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED
from werkzeug.exceptions import RequestEntityTooLarge

from odoo import api, http, sql_db
from odoo.http import request
from odoo.tools import mute_logger

from ..dtelib import callback, transitions

_logger = logging.getLogger(__name__)

UNIQUE_VIOLATION = '23505'
# A callback is a few hundred bytes (its texts are cut at 4,000 characters),
# except the accepted one, which carries the printed DTE and the receiver's
# XML in base64 (the pipeline bounds them at 1 MiB before base64; a PDF is
# tens of KB). Anything larger is refused before it is read, and before the
# signature is checked, so an unsigned caller cannot make Odoo read Odoo's
# own limit (128 MiB) of body.
MAX_BODY_BYTES = 2 * 1024 * 1024


@contextlib.contextmanager
def _decision_cursor(registry):
    """A cursor of its own, in READ COMMITTED, committed when the block ends.

    The request's own cursor took its REPEATABLE READ snapshot before the
    controller ran (session, settings). Deciding an event on it means that a
    move written meanwhile by the «Enviar DTE (async)» button (which holds
    the move while enqueue answers, and the pipeline's first callback can
    arrive before that transaction commits) fails with a serialization
    error: an ERROR in the log and Odoo replaying the whole request. Here
    the move is locked first and then read as committed, so the callback
    simply waits for the button's transaction and carries on. Under the
    test framework's shared cursor the isolation is left as it is.
    """
    cr = registry.cursor()
    with cr:
        if isinstance(cr, sql_db.Cursor):
            cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
        yield cr


def _json(status, body):
    return request.make_json_response(body, status=status)


def _is_unique_violation(err):
    """True for a PostgreSQL unique violation, raw or wrapped by the ORM."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if (getattr(err, 'pgcode', None) or getattr(err, 'sqlstate', None)) == UNIQUE_VIOLATION:
            return True
        err = err.__cause__ or err.__context__
    return False


class OdooCallbackStore:
    """dtelib.callback's store, backed by the ORM (superuser environment)."""

    def __init__(self, env):
        self.env = env

    def callback_secrets(self):
        companies = self.env['res.company'].search([])
        return [(company.id, company.dte_async_callback_secret or '') for company in companies]

    def load_move(self, move_id):
        # Lock the move so that concurrent events for it are decided one at a
        # time (a status can never be overwritten by a stale decision).
        self.env.cr.execute("SELECT id FROM account_move WHERE id = %s FOR NO KEY UPDATE", (move_id,))
        if not self.env.cr.fetchone():
            return None
        move = self.env['account.move'].browse(move_id)
        last = move.dte_async_last_update
        return callback.MoveState(
            move_id=move.id,
            scope=move.company_id.id,
            dtekey=move._dte_async_expected_dtekey(),
            status=move.dte_async_status or transitions.NOT_SENT,
            status_at=last.replace(tzinfo=datetime.timezone.utc) if last else None,
        )

    def event_seen(self, event_id):
        return bool(self.env['l10n_cl_dte_async.event'].search_count([('event_id', '=', event_id)], limit=1))

    def record(self, move, event, decision):
        values = {
            'event_id': event.event_id,
            'move_id': move.move_id,
            'dtekey': event.dtekey,
            'status': event.status,
            'result': 'applied' if decision.applied else 'ignored',
            'occurred_at': event.occurred_at.astimezone(datetime.timezone.utc).replace(tzinfo=None),
            'track_id': event.track_id or False,
            'sii_state': event.sii_state or False,
            'message': event.message or False,
        }
        try:
            with mute_logger('odoo.sql_db'), self.env.cr.savepoint():
                self.env['l10n_cl_dte_async.event'].create(values)
                self.env.flush_all()
        except Exception as err:
            if _is_unique_violation(err):  # the same event id, committed by a concurrent request
                return False
            raise
        if decision.applied:
            self.env['account.move'].browse(move.move_id)._dte_async_apply_event(event, decision)
        if event.status in callback.ACCEPTED_STATUSES and (event.attachments or event.attachments_error):
            # Also when the status was already final (another event said so
            # first): the files are attached once whatever the order.
            self.env['account.move'].browse(move.move_id)._dte_async_attach_files(event)
        elif event.status == transitions.ERROR and move.status in transitions.FINAL:
            self.env['account.move'].browse(move.move_id)._dte_async_warn_final_error(event)
        return True


class DteAsyncCallback(http.Controller):

    @http.route('/api/dte/callback', type='http', auth='public', methods=['POST'],
                csrf=False, save_session=False, max_content_length=MAX_BODY_BYTES)
    def dte_async_callback(self, **kwargs):
        """Status events from the pipeline's notify function (docs/design.md, "Odoo callback")."""
        httprequest = request.httprequest
        # The size is known before anything is read: notify always sends a
        # Content-Length; a body without one (chunked) is refused unread,
        # since the WSGI server would not bound it.
        length = httprequest.content_length
        if length is None:
            _logger.info("l10n_cl_dte_async callback answered 411: no Content-Length")
            return _json(411, {"error": "length required", "detail": f"send a Content-Length (at most {MAX_BODY_BYTES} bytes)"})
        if length > MAX_BODY_BYTES:
            _logger.info("l10n_cl_dte_async callback answered 413: %s bytes announced", length)
            return _json(413, {"error": "body too large", "detail": f"at most {MAX_BODY_BYTES} bytes"})
        try:
            raw = httprequest.get_data()  # Content-Length bytes, at most MAX_BODY_BYTES
        except RequestEntityTooLarge:
            return _json(413, {"error": "body too large", "detail": f"at most {MAX_BODY_BYTES} bytes"})
        with _decision_cursor(request.env.registry) as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, dict(request.env.context))
            response = callback.process(
                OdooCallbackStore(env), httprequest.headers, raw, time.time(), cr.dbname)
        if response.status != 200:
            _logger.info("l10n_cl_dte_async callback answered %s: %s", response.status, response.body)
        return _json(response.status, response.body)
