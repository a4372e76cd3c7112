from . import dte_async_event
from . import res_company
from . import res_config_settings
from . import account_move
