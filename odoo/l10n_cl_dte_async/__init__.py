# Part of l10n_cl_dte_async. License LGPL-3 (see __manifest__.py).
from . import controllers
from . import models
