"""An in-memory exporter behind this process's tracer provider, for the `spans` fixture.

OpenTelemetry lets a process set its tracer provider once: the first test
that asks sets one, with a processor that hands each finished span to the
exporter at once; the next tests share it and clear it. If a provider is
already set (OTEL_EXPORTER_OTLP_ENDPOINT in the environment of the test
run), the exporter is added to it.
"""

import functools
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)


class Spans(InMemorySpanExporter):
    """The finished spans, with a tracer for the test's own root span."""

    tracer = trace.get_tracer(__name__)

    def names(self) -> list[str]:
        return [span.name for span in self.get_finished_spans()]

    def named(self, name: str) -> ReadableSpan:
        [span] = [s for s in self.get_finished_spans() if s.name == name]
        return span

    def children_of(self, parent: ReadableSpan) -> Sequence[ReadableSpan]:
        return [
            span
            for span in self.get_finished_spans()
            if span.parent is not None and span.parent.span_id == parent.context.span_id
        ]


@functools.cache
def exporter() -> Spans:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    spans = Spans()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    return spans
