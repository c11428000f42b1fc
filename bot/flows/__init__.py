"""Every flow module registers its commands, steps and buttons with ``bot.router`` on import."""
from __future__ import annotations

import importlib
import pkgutil

for _info in pkgutil.iter_modules(__path__, prefix=__name__ + "."):
    importlib.import_module(_info.name)
