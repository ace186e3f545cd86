import json
import logging

import pytest
import structlog

from services.common.logging import configure_logging, get_logger


@pytest.fixture(autouse=True)
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def test_only_allowed_fields_reach_a_log_line(capsys) -> None:
    configure_logging("test")
    get_logger("t").info("tip accepted", tip_id="abc", narrative="she is 15", name="Jean Gagnon")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["tip_id"] == "abc" and line["event"] == "tip accepted"
    assert "narrative" not in line and "name" not in line


def test_an_exception_is_logged_by_its_type_only(capsys) -> None:
    configure_logging("test")
    try:
        raise ValueError("phone 514-555-0147 belongs to Jean Gagnon")
    except ValueError:
        get_logger("t").exception("handling failed")
    output = capsys.readouterr().out
    assert "Gagnon" not in output and "514" not in output
    assert '"error_type": "builtins.ValueError"' in output


def test_a_library_error_record_keeps_no_exception_text(capsys) -> None:
    configure_logging("test")
    try:
        raise RuntimeError("Key (email)=(jp.gagnon@example.org) already exists")
    except RuntimeError:
        logging.getLogger("somelibrary").exception("failed: %s", "jp.gagnon@example.org")
    output = capsys.readouterr().out
    assert "gagnon" not in output.lower()


def test_every_line_carries_the_current_trace_and_request_ids(capsys) -> None:
    from opentelemetry import trace

    from services.common.telemetry import request_id, tracer_provider

    configure_logging("test")
    token = request_id.set("req-1")
    try:
        with tracer_provider("test", None).get_tracer("t").start_as_current_span("work") as span:
            get_logger("t").info("step done")
            expected = format(span.get_span_context().trace_id, "032x")
    finally:
        request_id.reset(token)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["trace_id"], line["request_id"]) == (expected, "req-1")
    assert len(line["span_id"]) == 16
    assert trace.get_current_span().get_span_context().is_valid is False
