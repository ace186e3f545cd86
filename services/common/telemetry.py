"""Tracing and metrics. One trace per tip: the W3C context travels with each event (the outbox row's
header and the event's own ``traceparent``), and each consumed event's handling span joins it.
Spans and metric labels carry ids, codes and outcomes only, never identifying data.
"""

from __future__ import annotations

import contextvars
import threading
import uuid
from collections.abc import Iterable, MutableMapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Receive, Scope, Send

_lock = threading.Lock()
_PROPAGATOR = TraceContextTextMapPropagator()
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
outbox_backlog: dict[str, int] = {}
outbox_oldest_seconds: dict[str, float] = {}
consumer_lag: dict[tuple[str, str], int] = {}
# Trace context a caller may send; none of it is believed (see ``fresh_trace``).
TRACE_CONTEXT_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})


def fresh_trace(scope: MutableMapping[str, Any]) -> bool:
    """Every HTTP request starts a trace of its own: drop the caller's trace context before FastAPI
    reads it. A caller who chooses the trace id could join a tip's journey to a trace they know,
    force sampling, or plant baggage. Nothing inside Lantern calls a service over HTTP with a trace
    to continue, so staff routes lose nothing. FastAPI offers no earlier hook than ``exclude``,
    which sees the scope before its server span reads the headers; this never excludes a request.
    """
    if scope.get("type") == "http":
        scope["headers"] = [
            (name, value) for name, value in scope["headers"] if name not in TRACE_CONTEXT_HEADERS
        ]
    return False


# FastAPI's HTTP server spans, without its logs (they would carry exception messages) and without
# a span per dependency; span attributes: method, route, status, the path (ids, never a person).
FASTAPI_TELEMETRY: dict[str, Any] = {"logs": False, "operation_spans": False, "exclude": fresh_trace}


def _observe_backlog(_options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
    return [metrics.Observation(count, {"service": service}) for service, count in outbox_backlog.items()]


metrics.get_meter("lantern").create_observable_gauge(
    "lantern_outbox_backlog",
    callbacks=[_observe_backlog],
    description="Events staged, not yet on the broker.",
)


def _observe_oldest(_options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
    return [metrics.Observation(age, {"service": service}) for service, age in outbox_oldest_seconds.items()]


metrics.get_meter("lantern").create_observable_gauge(
    "lantern_outbox_oldest_seconds",
    callbacks=[_observe_oldest],
    unit="s",
    description="How long the oldest row the relay could send has waited: it grows when the relay stalls.",
)


def _observe_lag(_options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
    return [
        metrics.Observation(lag, {"service": service, "topic": topic})
        for (service, topic), lag in consumer_lag.items()
    ]


metrics.get_meter("lantern").create_observable_gauge(
    "lantern_consumer_lag",
    callbacks=[_observe_lag],
    description="Records on the broker the service's consumer group has not consumed yet, by topic.",
)


def tracer_provider(service: str, otlp_endpoint: str | None) -> TracerProvider:
    """The process's tracer provider, created once: a process may run several services (tests)."""
    with _lock:
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider):
            return current
        provider = TracerProvider(resource=Resource.create({"service.name": f"lantern-{service}"}))
        if otlp_endpoint:
            provider.add_span_processor(
                BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint}/v1/traces"))
            )
        trace.set_tracer_provider(provider)
        return provider


def meter_provider(service: str, otlp_endpoint: str | None = None) -> metrics.MeterProvider:
    """The process's meter provider, read by Prometheus at ``/metrics`` and, with an OTLP endpoint,
    exported every 30 s; created once.
    """
    with _lock:
        current = metrics.get_meter_provider()
        if isinstance(current, MeterProvider):
            return current
        readers: list[MetricReader] = [PrometheusMetricReader()]
        if otlp_endpoint:
            readers.append(
                PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"{otlp_endpoint}/v1/metrics"))
            )
        provider = MeterProvider(
            resource=Resource.create({"service.name": f"lantern-{service}"}), metric_readers=readers
        )
        metrics.set_meter_provider(provider)
        return provider


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, if there is one."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def context_from(traceparent: str | None) -> otel_context.Context | None:
    """The trace context a W3C ``traceparent`` names: a consumed event's span joins its producer's trace."""
    return _PROPAGATOR.extract({"traceparent": traceparent}) if traceparent else None


def add_trace_context(_logger: Any, _method: str, event_dict: Any) -> Any:
    """A log processor: the current trace and request ids on every line."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    current_request = request_id.get()
    if current_request:
        event_dict.setdefault("request_id", current_request)
    return event_dict


class RequestIds:
    """A request id for each HTTP request (on every log line), and the service's name on the request's
    server span, which FastAPI's own telemetry creates (`FASTAPI_TELEMETRY` in the runtime).
    """

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = request_id.set(str(uuid.uuid4()))
        trace.get_current_span().set_attribute("lantern.service", self.service)
        try:
            await self.app(scope, receive, send)
        finally:
            request_id.reset(token)
