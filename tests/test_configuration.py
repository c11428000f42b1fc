"""Every setting is documented in .env.example; the compose file parses and uses real commands."""
from __future__ import annotations

import re

import yaml

from core.settings import Settings
from klerk.cli import app
from tests.conftest import REPO


def documented() -> set[str]:
    return set(re.findall(r"^([A-Z0-9_]+)=", (REPO / ".env.example").read_text(), flags=re.M))


def test_every_setting_is_in_env_example() -> None:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add(alias.choices[0] if alias is not None else f"KLERK_{name.upper()}")
    assert names - documented() == set()
    assert documented() - names == set(), "documented settings that do not exist"


def test_compose_file_parses_and_uses_documented_variables_and_real_commands() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    for name, service in compose["services"].items():
        command = service.get("command")
        if command and command[0] == "klerk":
            assert command[1] in commands, f"{name}: klerk {command[1]} does not exist"
        for key in (service.get("environment") or {}):
            if key.startswith("KLERK_") or key.startswith("TELEGRAM_"):
                assert key in documented(), f"{name}: {key} is not in .env.example"
