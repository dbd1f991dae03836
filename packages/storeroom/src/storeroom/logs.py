"""Loggers whose records are redacted before any handler sees them."""

from __future__ import annotations

import logging

from storeroom.redaction import redact

__all__ = ["RedactingFilter", "get_logger", "redact_loggers"]


class RedactingFilter(logging.Filter):
    """Render the message, mask secrets in it, and drop the raw arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_FILTER = RedactingFilter()


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with redaction attached (filters do not inherit)."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


def redact_loggers(*names: str) -> None:
    """Redact the records of each named logger and of every logger below it that exists now.

    A logger's filters see only the records logged on that very logger, not its children's:
    ``botocore``'s filter would miss ``botocore.regions``. So every descendant gets one too.
    An SDK creates its loggers as it imports its modules: call this again once a client is
    made (idempotent), and the loggers created meanwhile are covered as well.
    """
    manager = logging.Logger.manager
    for name in names:
        get_logger(name)
        prefix = name + "."
        for existing in [n for n in list(manager.loggerDict) if n.startswith(prefix)]:
            get_logger(existing)
