"""Fixtures for the e-invoice tests: the official validators from the shared kit (loaded once per
session; they are read-only) and a PDF/A-3 made with WeasyPrint. The documents are in ``cases.py``.

The kit lives at ``../shared/einvoice`` next to the repository; ``KLERK_EINVOICE_KIT_DIR`` overrides it.
A missing kit fails the tests: an e-invoice that was never validated must not look green.
"""
from __future__ import annotations

import importlib.util
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from lxml import etree

REPO = Path(__file__).resolve().parents[2]


def _kit_dir() -> Path:
    override = os.environ.get("KLERK_EINVOICE_KIT_DIR")
    return Path(override) if override else REPO.parent / "shared" / "einvoice"


def _load(name: str) -> ModuleType:
    folder = _kit_dir()
    path = folder / f"{name}.py"
    if not path.is_file():
        pytest.fail(f"e-invoice validation kit not found: {path} is missing. Put the kit at "
                    f"../shared/einvoice or set KLERK_EINVOICE_KIT_DIR to its folder.", pytrace=False)
    spec = importlib.util.spec_from_file_location(f"klerk_kit_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module        # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def ubl_validator() -> Any:
    """``validate_ubl.Validator`` over the kit: XSD + Peppol or SI-UBL rules chosen by CustomizationID."""
    module = _load("validate_ubl")
    kit = _kit_dir() / "kit"
    if not kit.is_dir():
        pytest.fail(f"e-invoice validation kit incomplete: {kit} is missing", pytrace=False)
    return module.Validator(str(kit))


@dataclass
class FxFinding:
    layer: str
    flag: str
    id: str
    text: str
    location: str = ""

    @property
    def fatal(self) -> bool:
        return self.flag not in ("warning", "information", "info")


@dataclass
class FxResult:
    flavor: str
    level: str | None
    xml: bytes
    findings: list[FxFinding]

    @property
    def fatal_count(self) -> int:
        return sum(1 for f in self.findings if f.fatal)


class FacturxChecker:
    """The checks of ``validate_facturx.main`` (XSD, Factur-X schematron, EN 16931 CII rules) through
    its library parts, with one Saxon processor and compiled stylesheets kept for the session."""

    def __init__(self, module: ModuleType, kit: Path) -> None:
        from saxonche import PySaxonProcessor

        self.module = module
        self.kit = kit
        self.proc = PySaxonProcessor(license=False)
        self.xslt = self.proc.new_xslt30_processor()
        self.cache: dict[str, Any] = {}

    def check_pdf(self, pdf: bytes) -> FxResult:
        name, xml = self.module.facturx.get_xml_from_pdf(io.BytesIO(pdf), check_xsd=False)
        assert name == "factur-x.xml" and xml, f"no Factur-X XML attachment found (got {name!r})"
        return self.check_xml(xml)

    def check_xml(self, xml: bytes) -> FxResult:
        fx = self.module.fxmod
        tree = etree.fromstring(xml)
        flavor = fx.get_flavor(tree)
        level = fx.get_level(tree, flavor) if flavor in ("factur-x", "order-x") else None
        findings: list[FxFinding] = []
        try:
            fx.xml_check_xsd(tree, flavor=flavor, level=level or "autodetect")
        except Exception as exc:  # noqa: BLE001 - factur-x raises plain Exception for XSD errors
            findings.append(FxFinding("xsd", "fatal", "XSD", " ".join(str(exc).split())[:400]))
        layers = []
        if flavor == "factur-x" and level in fx.FACTURX_LEVEL2schematron:
            layers.append(("fx-sch", os.path.join(self.module.FX_DIR, fx.FACTURX_LEVEL2schematron[level])))
        if level in ("en16931", "extended"):
            layers.append(("en16931", str(self.kit / "en16931/cii/xslt/EN16931-CII-validation.xslt")))
        text = xml.decode("utf-8")
        for layer, stylesheet in layers:
            for flag, rule, message, location in self.module.run_xslt(
                    self.proc, self.xslt, self.cache, stylesheet, text):
                findings.append(FxFinding(layer, flag, rule, message, location))
        return FxResult(flavor, level, xml, findings)


@pytest.fixture(scope="session")
def facturx_checker() -> FacturxChecker:
    module = _load("validate_facturx")
    return FacturxChecker(module, _kit_dir() / "kit")


@pytest.fixture(scope="session")
def pdfa3_pdf() -> bytes:
    """A one-page PDF/A-3b from WeasyPrint, as the renderer makes them (read-only bytes)."""
    import weasyprint

    html = "<html lang='nl'><body><h1>Factuur 2026-0042</h1><p>Studio Vos Ontwerp</p></body></html>"
    return weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/a-3b")

