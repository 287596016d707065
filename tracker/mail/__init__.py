"""Email to the units: the texts, one message per unit with its workbook, drafts, SMTP sending.

    texts.py    the words of each email (templates/mail-*.txt, or the campaign folder's own copy)
    message.py  addresses, the message of one unit, who is written to
    drafts.py   one .eml per unit to send by hand
    smtp.py     sending exactly once per unit and batch, recorded in the ledger
"""
from tracker.mail.drafts import DraftResult, draft
from tracker.mail.message import (FROM_ENV, KINDS, Outgoing, address_list, batch_for, build, message_id, recipients,
                                  sender, targets)
from tracker.mail.smtp import (DEFAULT_RATE, PASSWORD_ENV, NotUnconfirmed, SendReport, SmtpSettings, connect,
                               mail_status, mark_sent, send)
from tracker.mail.texts import MailText, addressee, load_text, render_text, text_name, text_path, text_values

__all__ = ["DEFAULT_RATE", "FROM_ENV", "KINDS", "PASSWORD_ENV", "DraftResult", "MailText", "NotUnconfirmed", "Outgoing",
           "SendReport",
           "SmtpSettings", "address_list", "addressee", "batch_for", "build", "connect", "draft", "load_text",
           "mail_status", "mark_sent", "message_id", "recipients", "render_text", "send", "sender", "targets",
           "text_name", "text_path", "text_values"]
