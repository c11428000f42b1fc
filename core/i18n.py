"""Translations: gettext catalogues (``core/locale/<lang>/LC_MESSAGES/<domain>.po``) read with babel.

Message ids are English; Dutch is the default language. The ``.po`` files are read directly (no
compile step), once per process, and merged over all domains.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"


def normalize_language(language: str | None) -> str:
    lang = (language or DEFAULT_LANGUAGE).lower()[:2]
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@functools.cache
def translations(language: str) -> Translations:
    merged = Translations()
    folder = LOCALE_DIR / normalize_language(language) / "LC_MESSAGES"
    for po_file in sorted(folder.glob("*.po")):
        with po_file.open("rb") as fh:
            catalog = read_po(fh, locale=normalize_language(language))
        for message in catalog:
            if message.id and message.string and not message.fuzzy:
                key = message.id if isinstance(message.id, str) else message.id[0]
                value = message.string if isinstance(message.string, str) else message.string[0]
                merged._catalog[key] = value
    return merged


def translate(language: str, message: str, **params: Any) -> str:
    text = translations(language).gettext(message)
    return text.format(**params) if params else text
