import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

/** The OTLP .proto files (a subset of opentelemetry-proto v1), see fixtures/otlp/README.md. */
const PROTO_DIR = fileURLToPath(new URL('./fixtures/otlp/', import.meta.url));
const SERVICE = 'opentelemetry.proto.collector.metrics.v1';

function loadTypes(): { request: protobuf.Type; response: protobuf.Type } {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  root.loadSync('opentelemetry/proto/collector/metrics/v1/metrics_service.proto');
  return { request: root.lookupType(`${SERVICE}.ExportMetricsServiceRequest`), response: root.lookupType(`${SERVICE}.ExportMetricsServiceResponse`) };
}
const TYPES = loadTypes();
/** Plain objects of one shape whatever the wire: camelCase fields, 64-bit integers as numbers, enums by name. */
const PLAIN: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: false, arrays: true };

export interface OtlpAttribute {
  key: string;
  value?: { stringValue?: string; boolValue?: boolean; intValue?: number; doubleValue?: number };
}
export interface OtlpNumberPoint {
  attributes?: OtlpAttribute[];
  timeUnixNano?: number;
  asInt?: number;
  asDouble?: number;
}
export interface OtlpHistogramPoint {
  attributes?: OtlpAttribute[];
  timeUnixNano?: number;
  count?: number;
  sum?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
}
export interface OtlpMetric {
  name: string;
  unit?: string;
  sum?: { dataPoints?: OtlpNumberPoint[]; isMonotonic?: boolean; aggregationTemporality?: string };
  gauge?: { dataPoints?: OtlpNumberPoint[] };
  histogram?: { dataPoints?: OtlpHistogramPoint[]; aggregationTemporality?: string };
}
export interface OtlpExportRequest {
  resourceMetrics?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeMetrics?: { scope?: { name?: string; version?: string }; metrics?: OtlpMetric[] }[];
  }[];
}

/** One export the receiver took. */
export interface OtlpDelivery {
  /** `http` (OTLP/HTTP) or `grpc` (OTLP/gRPC). */
  via: 'http' | 'grpc';
  /** The HTTP Content-Type, or `application/grpc`. */
  contentType: string;
  /** HTTP headers, or gRPC metadata, lower-case names. */
  headers: Record<string, string>;
  request: OtlpExportRequest;
}

/**
 * An OTLP metrics receiver in the test process: OTLP/HTTP (protobuf and JSON, decoded with
 * the OTLP .proto definitions) on node:http, or OTLP/gRPC on @grpc/grpc-js; both on port 0.
 */
export class OtlpReceiver {
  readonly deliveries: OtlpDelivery[] = [];
  private readonly waiters: { match: (delivery: OtlpDelivery) => boolean; resolve: (delivery: OtlpDelivery) => void }[] = [];

  /** Resolves with the first delivery, taken already or to come, that `match` accepts. */
  next(match: (delivery: OtlpDelivery) => boolean): Promise<OtlpDelivery> {
    const seen = this.deliveries.find(match);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  private take(delivery: OtlpDelivery): void {
    this.deliveries.push(delivery);
    for (const waiter of this.waiters.filter((w) => w.match(delivery))) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(delivery);
    }
  }

  /** Listens for OTLP/HTTP on 127.0.0.1; resolves with its base URL (exporters add /v1/metrics) and a close. */
  async listenHttp(): Promise<{ url: string; close: () => Promise<void> }> {
    const server = createServer((req, res) => void this.onHttp(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return {
      url: `http://127.0.0.1:${address.port}`,
      close: () =>
        new Promise((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    };
  }

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
    const contentType = req.headers['content-type'] ?? '';
    if (req.method !== 'POST' || req.url !== '/v1/metrics') {
      res.writeHead(404).end();
      return;
    }
    const json = contentType.startsWith('application/json');
    if (!json && !contentType.startsWith('application/x-protobuf')) {
      res.writeHead(415).end();
      return;
    }
    const message = json ? TYPES.request.fromObject(JSON.parse(body.toString('utf8')) as Record<string, unknown>) : TYPES.request.decode(body);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')]));
    this.take({ via: 'http', contentType, headers, request: TYPES.request.toObject(message, PLAIN) as OtlpExportRequest });
    // An empty ExportMetricsServiceResponse: full success.
    if (json) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(TYPES.response.encode({}).finish()));
  }

  /** Serves OTLP/gRPC (MetricsService/Export, no TLS) on 127.0.0.1; resolves with its URL and a close. */
  async listenGrpc(): Promise<{ url: string; close: () => Promise<void> }> {
    const server = new grpc.Server();
    const toBuffer = (type: protobuf.Type) => (value: object) => Buffer.from(type.encode(value).finish());
    server.addService(
      {
        Export: {
          path: `/${SERVICE}.MetricsService/Export`,
          requestStream: false,
          responseStream: false,
          requestSerialize: toBuffer(TYPES.request),
          requestDeserialize: (bytes: Buffer) => TYPES.request.toObject(TYPES.request.decode(bytes), PLAIN),
          responseSerialize: toBuffer(TYPES.response),
          responseDeserialize: (bytes: Buffer) => TYPES.response.toObject(TYPES.response.decode(bytes), PLAIN),
        },
      },
      {
        Export: (call: grpc.ServerUnaryCall<OtlpExportRequest, object>, callback: grpc.sendUnaryData<object>) => {
          const headers = Object.fromEntries(Object.entries(call.metadata.getMap()).map(([name, value]) => [name, String(value)]));
          this.take({ via: 'grpc', contentType: 'application/grpc', headers, request: call.request });
          callback(null, {});
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
  }
}

/** Attributes as a plain record (string, boolean and number values). */
export function attributeRecord(attributes: readonly OtlpAttribute[] | undefined): Record<string, string | boolean | number | undefined> {
  return Object.fromEntries((attributes ?? []).map(({ key, value }) => [key, value?.stringValue ?? value?.boolValue ?? value?.intValue ?? value?.doubleValue]));
}

/** Every metric of a delivery, by name. */
export function metricsOf(delivery: OtlpDelivery): Map<string, OtlpMetric> {
  const out = new Map<string, OtlpMetric>();
  for (const rm of delivery.request.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) for (const metric of sm.metrics ?? []) out.set(metric.name, metric);
  }
  return out;
}
