"""ID and phone numbers never reach a log line: the access log's request line, query and
referrer, and every Django log record, pass through ``redact``.

The patterns are deliberately broad (any 15- or 18-character ID-like run of digits, any
mainland mobile number): a false positive costs a log reader a digit string, a miss leaks a
person's number.
"""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger as GunicornBaseLogger

#: 18-character resident ID (17 digits and a digit or X), or the old 15-digit one.
ID_LIKE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
#: A mainland mobile number, optionally after +86 / 0086 (URL-encoded + included).
PHONE_LIKE = re.compile(r"(?<!\d)(?:(?:\+|%2[Bb]|00)?86)?1[3-9]\d{9}(?!\d)")
REDACTED_ID = "[ID]"
REDACTED_PHONE = "[PHONE]"


def looks_like_id_number(text: str) -> bool:
    """Whether ``text`` is, or holds, something shaped like a resident ID number."""
    return bool(ID_LIKE.search("".join((text or "").split())))


def redact(text: str) -> str:
    return PHONE_LIKE.sub(REDACTED_PHONE, ID_LIKE.sub(REDACTED_ID, text))


class RedactingFilter(logging.Filter):
    """Formats the record's message once, redacted, so no argument carries a number past it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class RedactingGunicornLogger(GunicornBaseLogger):
    """gunicorn's logger with the access log's URL, query and referrer redacted."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f", "{referer}i"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
