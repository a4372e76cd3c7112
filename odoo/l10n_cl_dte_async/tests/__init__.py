from . import test_dte_async_move
from . import test_dte_async_callback
from . import test_dte_async_freeze
from . import test_dte_async_concurrency
from . import test_dte_async_live
