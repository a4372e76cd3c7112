from . import test_dte_async_move
from . import test_dte_async_callback
