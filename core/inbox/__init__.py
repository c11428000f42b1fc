"""The receipt inbox: ingest addresses, arrivals (mail, chat uploads), the shoebox of documents,
IMAP mailboxes and the accountant. Tables in ``models``; services per concept:

    addresses      ingest_address, rotate_ingest_address, address_of          bon-<token>@<domain>
    messages       accept_upload (the chat), accept_mail (SMTP/IMAP edges)      arrivals, queued as jobs
    receipts       list_receipts, get_receipt, receipt_original, confirm_receipt, edit_receipt,
                   mark_private, mark_not_receipt                             the chat's verdicts
    facts          receipt_facts, status_label                                what the chat shows
    export         export_period                                              ZIP + CSV + UBL per period
    preferences    sharing_mode, replies_to_senders, set_inbox_preference     share mode, replies (company settings)
    imap_accounts  add_imap_account, remove_imap_account                      mailboxes to poll
    bookkeeping    input_vat, has_receipt                                     for core.payments
    filing, bounces, accountant, replies                                      used by the ingest worker

Notifications (outbox kinds): receipt_received, receipt_rejected, receipt_processed,
accountant_replied, accountant_share_failed, invoice_bounced.
"""
