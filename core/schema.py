"""Every table of Klerk on ``SQLModel.metadata``: imports each ``models`` module under core.

Alembic's env and the schema tests call ``load_all_models()`` so that a table added in a new
``core/<concept>/models.py`` is migrated and checked without a list to keep up to date.
"""
from __future__ import annotations

import importlib
import pkgutil

import core


def load_all_models() -> None:
    for info in pkgutil.walk_packages(core.__path__, prefix="core."):
        if info.name.rsplit(".", 1)[-1] == "models":
            importlib.import_module(info.name)
