"""``klerk demo`` plays the whole story over loopback: onboarding, an invoice mailed, paid through
the Mollie double (webhook → web app → worker), and the "Betaald!" message delivered by the bot."""
from __future__ import annotations

import pytest

from klerk.demo import run_demo

pytestmark = pytest.mark.slow


def test_demo_transcript_has_the_paid_message(tmp_path) -> None:  # type: ignore[no-untyped-def]
    lines: list[str] = []
    transcript = run_demo(tmp_path / "data", echo=lines.append)
    text = "\n".join(transcript).replace("\xa0", " ")
    assert transcript == lines
    assert "✅ Je IBAN NL91…4300 is gecontroleerd" in text
    assert "2026-0001" in text or "-0001" in text
    paid = next(line for line in transcript if "💶 Betaald!" in line)
    number = paid.split("voor factuur ")[1].split(" ")[0].rstrip(".")
    assert number.endswith("0001") and "Bakkerij de Vries B.V." in paid and "€ 726,00" in paid.replace("\xa0", " ")
    assert f"Bedankt voor je betaling van factuur {number}" in text
