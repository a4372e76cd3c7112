from . import dte_async_event
from . import res_company
from . import res_config_settings
from . import account_move
from . import account_move_line
from . import account_move_reversal
from . import account_debit_note
from . import ir_websocket
