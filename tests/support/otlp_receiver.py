"""An OTLP/HTTP trace receiver on the loopback that keeps what it receives.

For tests/test_tracing.py and benchmarks/tracing.py: the rendered project
exports its spans to it (OTEL_EXPORTER_OTLP_ENDPOINT), as to a real
collector, over HTTP with protobuf bodies. It decodes each
ExportTraceServiceRequest with the opentelemetry-proto package and keeps
the raw bytes too, to search them for what must never be exported.
"""

import gzip
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from support.harness import poll


@dataclass(frozen=True)
class Span:
    """One exported span, with the attributes of the process that made it."""

    trace_id: str
    span_id: str
    parent_id: str  # "" for a root span
    name: str
    kind: int
    attributes: dict = field(hash=False)
    resource: dict = field(hash=False)
    status: int  # 0 unset, 1 ok, 2 error
    events: tuple = ()


def value_of(any_value):
    """The Python value of an OTLP AnyValue (the scalar kinds spans use)."""
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [value_of(v) for v in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None


def attributes_of(key_values):
    return {kv.key: value_of(kv.value) for kv in key_values}


class OtlpReceiver:
    """Start with `with OtlpReceiver() as receiver:`; `receiver.endpoint` is its URL."""

    def __init__(self):
        self.lock = threading.Lock()
        self.bodies = []  # the decompressed protobuf bodies, as received
        self.spans = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_response(404)
                    self.end_headers()
                    return
                receiver.receive(body)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.thread = None

    def receive(self, body):
        request = ExportTraceServiceRequest.FromString(body)
        spans = []
        for resource_spans in request.resource_spans:
            resource = attributes_of(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans.append(
                        Span(
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex(),
                            name=span.name,
                            kind=span.kind,
                            attributes=attributes_of(span.attributes),
                            resource=resource,
                            status=span.status.code,
                            events=tuple(
                                (event.name, attributes_of(event.attributes))
                                for event in span.events
                            ),
                        )
                    )
        with self.lock:
            self.bodies.append(body)
            self.spans.extend(spans)

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        """Stop listening: the next exports find the port closed."""
        if self.thread is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def received(self):
        """All the bytes received so far."""
        with self.lock:
            return b"".join(self.bodies)

    def all_spans(self):
        with self.lock:
            return list(self.spans)

    def wait_for(self, condition, timeout):
        """Wait until condition(spans) is true; return whether it became so."""
        return poll(lambda: condition(self.all_spans()), timeout=timeout)
