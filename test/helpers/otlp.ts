// A stand-in OTLP/HTTP trace receiver for the tests (not a collector): POST /v1/traces as JSON, or as protobuf read
// by a minimal hand-written wire-format reader that extracts only the fields of ExportTraceServiceRequest the tests
// check (ids, names, kinds, times, a few attributes) and skips the rest. It can also hang or fail, as a sick collector would.
import { createServer, type Server } from 'node:http';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** 1 internal, 2 server, 3 client */
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, string | number | boolean>;
  resource: Record<string, string | number | boolean>;
}

// ---- protobuf wire format: varints, length-delimited fields, fixed64 ----------------------------------------------

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let shift = 1;
    for (;;) {
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
  }
  bytes(): Buffer {
    const len = this.varint();
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  double(): number {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  fixed64(): number {
    const v = Number(this.buf.readBigUInt64LE(this.pos));
    this.pos += 8;
    return v;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unexpected wire type ${wire}`);
  }
  /** Calls fn(field, wire) for each field; fn reads the value or returns false to skip it. */
  fields(fn: (field: number, wire: number) => boolean | undefined): void {
    while (!this.done) {
      const tag = this.varint();
      const [field, wire] = [Math.floor(tag / 8), tag & 7];
      if (!fn(field, wire)) this.skip(wire);
    }
  }
}

function anyValue(buf: Buffer): string | number | boolean {
  const r = new Reader(buf);
  let v: string | number | boolean = '';
  r.fields((f, w) => {
    if (f === 1 && w === 2) v = r.bytes().toString('utf8');
    else if (f === 2 && w === 0) v = r.varint() !== 0;
    else if (f === 3 && w === 0) v = r.varint();
    else if (f === 4 && w === 1) v = r.double();
    else return false;
    return true;
  });
  return v;
}

function keyValue(buf: Buffer, into: Record<string, string | number | boolean>): void {
  const r = new Reader(buf);
  let key = '';
  let value: string | number | boolean = '';
  r.fields((f, w) => {
    if (f === 1 && w === 2) key = r.bytes().toString('utf8');
    else if (f === 2 && w === 2) value = anyValue(r.bytes());
    else return false;
    return true;
  });
  into[key] = value;
}

/** The embedded messages of one field number in a message. */
function messages(buf: Buffer, field: number): Buffer[] {
  const out: Buffer[] = [];
  const r = new Reader(buf);
  r.fields((f, w) => {
    if (f !== field || w !== 2) return false;
    out.push(r.bytes());
    return true;
  });
  return out;
}

function decodeProtobuf(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of messages(body, 1)) {
    const resource: Record<string, string | number | boolean> = {};
    for (const res of messages(rs, 1)) for (const kv of messages(res, 1)) keyValue(kv, resource);
    for (const scope of messages(rs, 2)) {
      for (const s of messages(scope, 2)) {
        const span: ReceivedSpan = { traceId: '', spanId: '', parentSpanId: '', name: '', kind: 0, startMs: 0, endMs: 0, attributes: {}, resource };
        const r = new Reader(s);
        r.fields((g, x) => {
          if (g === 1 && x === 2) span.traceId = r.bytes().toString('hex');
          else if (g === 2 && x === 2) span.spanId = r.bytes().toString('hex');
          else if (g === 4 && x === 2) span.parentSpanId = r.bytes().toString('hex');
          else if (g === 5 && x === 2) span.name = r.bytes().toString('utf8');
          else if (g === 6 && x === 0) span.kind = r.varint();
          else if (g === 7 && x === 1) span.startMs = r.fixed64() / 1e6;
          else if (g === 8 && x === 1) span.endMs = r.fixed64() / 1e6;
          else if (g === 9 && x === 2) keyValue(r.bytes(), span.attributes);
          else return false;
          return true;
        });
        spans.push(span);
      }
    }
  }
  return spans;
}

// ---- OTLP/JSON ------------------------------------------------------------------------------------------------------

type JsonKV = { key: string; value: Record<string, unknown> };
const jsonValue = (v: Record<string, unknown>) =>
  (v.stringValue ?? v.boolValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.doubleValue)) as string | number | boolean;
const jsonAttributes = (kvs: JsonKV[] = []) => Object.fromEntries(kvs.map((kv) => [kv.key, jsonValue(kv.value)]));

function decodeJson(body: Buffer): ReceivedSpan[] {
  const doc = JSON.parse(body.toString('utf8')) as {
    resourceSpans: { resource?: { attributes?: JsonKV[] }; scopeSpans: { spans: Record<string, unknown>[] }[] }[];
  };
  return doc.resourceSpans.flatMap((rs) => {
    const resource = jsonAttributes(rs.resource?.attributes);
    return rs.scopeSpans.flatMap((ss) =>
      ss.spans.map((s) => ({
        traceId: String(s.traceId),
        spanId: String(s.spanId),
        parentSpanId: String(s.parentSpanId ?? ''),
        name: String(s.name),
        kind: Number(s.kind),
        startMs: Number(s.startTimeUnixNano) / 1e6,
        endMs: Number(s.endTimeUnixNano) / 1e6,
        attributes: jsonAttributes(s.attributes as JsonKV[]),
        resource,
      })),
    );
  });
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly contentTypes = new Set<string>();
  /** 'ok' answers 200; 'hang' never answers; 'fail' answers 503; 'reset' drops the connection (a collector gone). */
  mode: 'ok' | 'hang' | 'fail' | 'reset' = 'ok';
  requests = 0;
  /** Spans received (counted even when not decoded). */
  bytes = 0;
  /** false: count requests and bytes only (the bench: a receiver that costs little CPU). */
  decode = true;
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      if (this.mode === 'reset') {
        this.requests++;
        return void req.socket.destroy();
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests++;
        if (this.mode === 'hang') return;
        if (this.mode === 'fail') return void res.writeHead(503).end();
        const type = String(req.headers['content-type'] ?? '');
        this.contentTypes.add(type);
        const body = Buffer.concat(chunks);
        this.bytes += body.length;
        if (this.decode) this.spans.push(...(type.includes('json') ? decodeJson(body) : decodeProtobuf(body)));
        res.writeHead(200, { 'content-type': type.includes('json') ? 'application/json' : 'application/x-protobuf' }).end(type.includes('json') ? '{}' : '');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  byService(name: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.resource['service.name'] === name);
  }
}
