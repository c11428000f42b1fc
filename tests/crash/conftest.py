"""The ingest fixtures (a company with an ingest address, the file store, a real SMTP ingest, a worker)."""
from tests.ingest.conftest import inbox, make_worker, smtp_ingest, store  # noqa: F401
