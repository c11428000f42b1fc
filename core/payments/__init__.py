"""Getting paid: payment providers (Mollie), webhooks, bank statements, reminders and money figures.

Modules (one concept each):
  models.py       the tables: payment accounts, payment requests (links), payments, bank
                  transactions, reminders, per-contact reminder mode
  secrets.py      the Fernet box for provider API keys at rest
  providers.py    the ``PaymentProvider`` protocol and the Mollie adapter (the only ``mollie`` import)
  accounts.py     connecting a company to a provider (the encrypted API key, the webhook token)
  booking.py      booking money on invoices, idempotently, with the "paid" notification
  links.py        payment links on invoices; the EUR 0,01 IBAN check payment
  webhooks.py     recording a webhook (fast) and processing it in a job (fetch back, book); polling
  worker.py       the job runner for the payment job kinds
  statements.py   CAMT.053 and MT940 parsing (pure)
  matching.py     scoring bank credits against open invoices (pure)
  bank.py         statement import, one-tap assignment, debits without a receipt
  collection.py   WIK collection costs, statutory commercial interest, the 14-day deadline (pure)
  reminders.py    the reminder schedule, the scheduler entry point, the owner's decisions
  letters.py      the reminder mails and their delivery
  figures.py      overview, VAT return (+ CSV), KOR threshold
  chart.py        the overview as a PNG (matplotlib, Agg)

Notification kinds written to the outbox (``core.outbox``): invoice_paid, payment_reversed,
payment_unapplied, payment_link_failed, iban_verified, iban_mismatch, reminder_due, reminder_sent,
reminder_failed, quote_expiring, kor_threshold.
"""
