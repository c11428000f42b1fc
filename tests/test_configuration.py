"""Every setting is documented in .env.example; the compose file parses and uses real commands."""
from __future__ import annotations

import re

import typer
import yaml

from core.settings import Settings
from klerk.cli import app
from klerk.serve import ROLES
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


def _klerk_command_parses(argv: list[str]) -> None:
    """Resolve ``klerk a b --opt v`` through the real CLI (groups, commands, options) without running it."""
    command = typer.main.get_command(app)
    ctx = command.make_context("klerk", list(argv), resilient_parsing=False)
    while hasattr(command, "resolve_command"):       # a group (typer ships its own copy of click)
        name, command, rest = command.resolve_command(ctx, [*getattr(ctx, "_protected_args", []), *ctx.args])
        assert command is not None, f"klerk {' '.join(argv)}: no such command"
        ctx = command.make_context(name, rest, parent=ctx)
    if command.name == "serve":
        assert set(ctx.params["role"] or []) <= set(ROLES), argv


def test_compose_file_parses_and_uses_documented_variables_and_real_commands() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    roles: set[str] = set()
    for name, service in compose["services"].items():
        for argv in (service.get("command"), (service.get("healthcheck") or {}).get("test")):
            if argv and argv[0] == "CMD":
                argv = argv[1:]
            if argv and argv[0] == "klerk":
                _klerk_command_parses(argv[1:])
                if argv[1] == "serve":
                    roles |= {argv[i + 1] for i, arg in enumerate(argv) if arg == "--role"}
        for key in (service.get("environment") or {}):
            if key.startswith("KLERK_") or key.startswith("TELEGRAM_"):
                assert key in documented(), f"{name}: {key} is not in .env.example"
        if name != "db":
            assert service["environment"]["KLERK_DATABASE_URL"].startswith("postgresql+psycopg://"), name
    assert roles == set(ROLES), "every role of klerk serve has a service"


def test_compose_check_catches_a_wrong_command() -> None:
    import pytest

    for wrong in (["serve", "--rol", "bot"], ["db", "upgrad"], ["servee"]):
        with pytest.raises(Exception, match="No such (command|option)|no such command"):
            _klerk_command_parses(wrong)


def test_every_process_derives_the_same_bounce_key_and_only_when_asked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The bot and workers sign bounce addresses, the SMTP role checks them: both from the one key."""
    from core.mail import bounce_key, company_of_bounce_address, relay_from_settings
    from klerk.runtime import secret_key

    base = dict(data_dir=tmp_path, secret_key="the installation key", ingest_domain="bonnen.example.nl",
                smtp_from="facturen@example.nl")
    off = relay_from_settings(Settings(**base))
    assert off.envelope_sender(7) == "facturen@example.nl"
    settings = Settings(**base, bounces_to_ingest=True)
    relay = relay_from_settings(settings)
    sender = relay.envelope_sender(7)
    assert sender.startswith("bounce-7-") and sender.endswith("@bonnen.example.nl")
    assert relay.envelope_sender(None) == "facturen@example.nl"        # mail of no company: the From
    assert company_of_bounce_address(sender.upper(), bounce_key(Settings(**base)), "bonnen.example.nl") == 7
    assert bounce_key(settings) != secret_key(settings)
    other = Settings(**{**base, "secret_key": "another installation"})
    assert company_of_bounce_address(sender, bounce_key(other), "bonnen.example.nl") is None
    assert repr(relay.bounce_key) not in repr(relay)                    # the key is not logged with the relay
