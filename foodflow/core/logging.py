"""Log records as JSON lines, for log collectors; the settings' LOG_FORMAT picks this or text."""

import json
import logging
import logging.config
from datetime import UTC, datetime

from foodflow.core.request_id import current_request_id

# what every LogRecord carries; anything else on a record came from ``extra=``
STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


def configure(config: dict) -> None:
    """Django's LOGGING_CONFIG: the settings' dictConfig, and Python's warnings turned into log
    records, since a bare warning line on stderr would break the JSON lines."""
    logging.config.dictConfig(config)
    logging.captureWarnings(True)


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request's id (``-`` outside a request), also the
    records of code the request calls, since the id travels in a context variable."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, request_id, the
    exception's traceback when there is one, and the record's ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", current_request_id.get()),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        # default=str: Django's own records carry the request object and the like
        return json.dumps(entry, ensure_ascii=False, default=str)
