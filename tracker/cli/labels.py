"""The command line's words for the library's keys, in the chosen language.

The statuses' words are the documents' (tracker.outbound.wording, one source per word), shown
here through `_()`; the rest are the command line's own.
"""
from __future__ import annotations

from tracker.model.language import N_, _
from tracker.outbound import wording

MAIL_STATUS = {"sent": N_("đã gửi"), "sending": N_("chưa rõ đã gửi"), "failed": N_("gửi lỗi"), None: N_("chưa gửi")}


def status(key: str) -> str:
    """A product's result: "Đạt (nghiệm thu)"..."""
    return _(wording.STATUS[key])


def deadline(key: str) -> str:
    """A unit's deadline status: "Đúng hạn"..."""
    return _(wording.DEADLINE[key])


def outcome(key: str) -> str:
    """What became of a returned file: "Đã nhận"..."""
    return _(wording.OUTCOME[key])


def sent_refused() -> str:
    """A unit whose files were all refused: "Đã gửi, bị từ chối"."""
    return _(wording.SENT_REFUSED)


def mail_status(key: str | None) -> str:
    return _(MAIL_STATUS.get(key, MAIL_STATUS[None]))
