import { request } from 'node:http';

import fc from 'fast-check';

import { GATEWAY_A, GATEWAY_B } from '../../utils/create-test-app';

/** One request as sent on the wire. */
export interface FuzzRequest {
  authorization: string | undefined;
  contentType: string | undefined;
  headers: Record<string, string>;
  body: Buffer;
  /** what produced the body, for the report of a failing case */
  kind: string;
}

export interface RawReply {
  status: number;
  contentType: string | undefined;
  text: string;
}

/** POSTs exactly these bytes and headers (node:http, so nothing is normalised on the way). */
export function sendRaw(baseUrl: string, fuzz: FuzzRequest): Promise<RawReply> {
  const url = new URL('/gateway/custom-im', baseUrl);
  const headers: Record<string, string> = { ...fuzz.headers, 'content-length': String(fuzz.body.length) };
  if (fuzz.authorization !== undefined) headers.authorization = fuzz.authorization;
  if (fuzz.contentType !== undefined) headers['content-type'] = fuzz.contentType;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error('no reply in 15 s')));
    req.on('error', reject);
    req.end(fuzz.body);
  });
}

/** An object with these own keys, `__proto__` included as a plain key (as JSON.parse makes it). */
function withOwnKeys(entries: Array<[string, unknown]>): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(object, key, { value, enumerable: true, configurable: true, writable: true });
  return object;
}

const NASTY_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'then', ''];
const key = fc.oneof(fc.constantFrom(...NASTY_KEYS), fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }));

/** JSON values with prototype-ish keys, NaN-free numbers, unicode strings, nulls. */
const jsonish: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => Number(n)),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('object'),
  ),
  object: fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map(withOwnKeys),
})).value;

/** Deep nesting of arrays or objects, up to tens of thousands of levels. */
const deep = fc
  .record({ depth: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1_000, max: 60_000 })), arrays: fc.boolean() })
  .map(({ depth, arrays }) => (arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`));

const allowedCallback = fc.constantFrom('https://api.smartico.ai/cim/callback?label=7', 'http://hooks.smartico.ai/x', 'https://a.b.smartico.ai:8443/p?q=1#f');
const field = {
  ext_user_id: fc.oneof(
    { weight: 30, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) },
    fc.integer(),
    fc.maxSafeNat(),
    fc.double(),
    fc.string({ minLength: 250, maxLength: 260 }),
    fc.constant(''),
    jsonish,
  ),
  body: fc.oneof(
    { weight: 30, arbitrary: fc.string({ unit: 'grapheme', maxLength: 200 }) },
    fc.string({ minLength: 65_530, maxLength: 65_540 }),
    fc.integer(),
    jsonish,
  ),
  im_uid: fc.oneof(
    { weight: 30, arbitrary: fc.uuid().map((id) => `fz-${id}`) },
    // a small pool, so replays and conflicts happen
    fc.constantFrom('dup-1', 'dup-2', 'dup-3'),
    fc.string({ maxLength: 300 }),
    fc.integer(),
    jsonish,
  ),
  callback_url: fc.oneof(
    { weight: 30, arbitrary: allowedCallback },
    fc.webUrl(),
    fc.string(),
    fc.constantFrom(
      'ftp://api.smartico.ai/x',
      'javascript:alert(1)',
      'http://',
      'https://api.smartico.ai@127.0.0.1/',
      `https://x.smartico.ai/${'a'.repeat(2100)}`,
    ),
    jsonish,
  ),
  extension: fc.oneof(
    { weight: 12, arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), jsonish, { maxKeys: 6 }) },
    jsonish,
    fc.constant(null),
    fc.record({
      display: fc.constantFrom('popup', 'inbox', 'both', 'x', 3),
      priority: fc.constantFrom('high', 'normal', null),
      expires_at: fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.string(),
      ),
      category: jsonish,
    }),
    fc.array(jsonish, { maxLength: 3 }),
  ),
  from_number: jsonish,
};
type Field = keyof typeof field;

/** A Custom IM request whose fields are each right, wrong or absent, plus stray and prototype keys. */
const customImLike = fc
  .record({
    present: fc.record(Object.fromEntries(Object.keys(field).map((name) => [name, fc.integer({ min: 0, max: 9 })])) as Record<Field, fc.Arbitrary<number>>),
    values: fc.record(field as unknown as Record<Field, fc.Arbitrary<unknown>>),
    extra: fc.array(fc.tuple(key, jsonish), { maxLength: 3 }),
  })
  .map(({ present, values, extra }) => {
    // each field is present 9 times in 10 (so most requests get far enough to be validated)
    const entries: Array<[string, unknown]> = (Object.keys(field) as Field[]).filter((name) => present[name] > 0).map((name) => [name, values[name]]);
    return withOwnKeys([...entries, ...extra]);
  });

/** Every kind of body the fuzzer sends, with how often it is drawn. */
const bodyKinds: Array<{ kind: string; weight: number; bytes: fc.Arbitrary<Buffer> }> = [
  { kind: 'custom-im-like', weight: 12, bytes: customImLike.map((value) => Buffer.from(JSON.stringify(value))) },
  {
    kind: 'deep extension',
    weight: 1,
    bytes: customImLike.chain((value) =>
      deep.map((nested) => Buffer.from(JSON.stringify({ ...value, extension: '__DEEP__' }).replace('"__DEEP__"', `{"n":${nested}}`))),
    ),
  },
  { kind: 'random json', weight: 2, bytes: jsonish.map((value) => Buffer.from(JSON.stringify(value) ?? 'null')) },
  { kind: 'deep', weight: 1, bytes: deep.map((nested) => Buffer.from(nested)) },
  { kind: 'random text', weight: 1, bytes: fc.string({ unit: 'binary', maxLength: 300 }).map((text) => Buffer.from(text)) },
  { kind: 'random bytes', weight: 1, bytes: fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)) },
  {
    kind: 'huge',
    weight: 1,
    bytes: fc
      .integer({ min: 200 * 1024, max: 300 * 1024 })
      .map((size) => Buffer.from(JSON.stringify({ ext_user_id: 'p', body: 'x'.repeat(size), im_uid: 'huge', callback_url: 'https://api.smartico.ai/c' }))),
  },
  {
    kind: 'truncated json',
    weight: 1,
    bytes: customImLike.map((value) => Buffer.from(JSON.stringify(value)).subarray(0, Math.max(1, JSON.stringify(value).length - 3))),
  },
  { kind: 'empty', weight: 1, bytes: fc.constant(Buffer.alloc(0)) },
];
export const BODY_KINDS = bodyKinds.map(({ kind }) => kind);

const body: fc.Arbitrary<{ kind: string; bytes: Buffer }> = fc.oneof(
  ...bodyKinds.map(({ kind, weight, bytes }) => ({ weight, arbitrary: bytes.map((value) => ({ kind, bytes: value })) })),
);

/** The content types Smartico sends; anything else is a wrong one. */
export const JSON_CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8'];

const contentType = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...JSON_CONTENT_TYPES) },
  fc.constantFrom(
    undefined,
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'APPLICATION/JSON',
    'application/json; charset=utf-16',
    'application/json; charset=latin1',
    'application/vnd.api+json',
    'application/octet-stream',
    'text/html',
    '',
    '*/*',
  ),
  fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 30 }),
);

const authorization = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(GATEWAY_A.authorization, GATEWAY_B.authorization) },
  fc.constantFrom(undefined, '', `Bearer ${GATEWAY_A.authorization}`, GATEWAY_A.authorization.toLowerCase(), `${GATEWAY_B.authorization}x`),
  // any byte a header value may carry (no controls, no DEL), latin-1 included
  fc.string({
    unit: fc.oneof(fc.integer({ min: 0x21, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff })).map((code) => String.fromCharCode(code)),
    maxLength: 40,
  }),
);

const FRAMING = new Set([
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
  'expect',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'proxy-connection',
  'authorization',
  'content-type',
]);
const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz";
const headerName = fc.oneof(
  fc.constantFrom(
    'x-forwarded-for',
    'x-request-id',
    'content-encoding',
    'accept',
    'accept-encoding',
    'origin',
    'cookie',
    'x-http-method-override',
    'range',
    'if-none-match',
    '__proto__',
    'constructor',
  ),
  fc.string({ unit: fc.constantFrom(...TOKEN_CHARS.split('')), minLength: 1, maxLength: 20 }),
);
const headerValue = fc.oneof(
  fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'GET', 'DELETE', '127.0.0.1', '1.2.3.4, ::1', 'bytes=0-1', '*'),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 200 }).map((value) => value.trim()),
);
const headersOf = (minLength: number): fc.Arbitrary<Record<string, string>> =>
  fc.array(fc.tuple(headerName, headerValue), { minLength, maxLength: 5 }).map((pairs) => {
    const out: Record<string, string> = {};
    for (const [name, value] of pairs) if (!FRAMING.has(name.toLowerCase())) out[name] = value;
    return out;
  });
const headers = headersOf(0);

export const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({ authorization, contentType, headers, body })
  .map(({ authorization: auth, contentType: type, headers: extra, body: { kind, bytes } }) => ({
    authorization: auth,
    contentType: type,
    headers: extra,
    body: bytes,
    kind,
  }));

/**
 * The first requests of every run, so that none of what the fuzzer covers is left to chance: one of
 * each body kind with the right secret and content type, then a Custom IM with a wrong content type
 * and one with stray headers.
 */
export function fuzzExamples(seed: number): FuzzRequest[] {
  const one = <T>(arbitrary: fc.Arbitrary<T>, offset: number): T => fc.sample(arbitrary, { numRuns: 1, seed: seed + offset })[0];
  const customImBody = one(bodyKinds[0].bytes, 0);
  const wrongType = one(
    contentType.filter((type) => type === undefined || !JSON_CONTENT_TYPES.includes(type)),
    1,
  );
  let strayHeaders = one(headersOf(1), 2);
  for (let offset = 3; Object.keys(strayHeaders).length === 0; offset++) strayHeaders = one(headersOf(1), offset);
  return [
    ...bodyKinds.map(({ kind, bytes }, index) => ({
      authorization: GATEWAY_A.authorization,
      contentType: 'application/json',
      headers: {},
      body: one(bytes, 10 + index),
      kind,
    })),
    { authorization: GATEWAY_A.authorization, contentType: wrongType, headers: {}, body: customImBody, kind: 'custom-im-like' },
    { authorization: GATEWAY_B.authorization, contentType: 'application/json', headers: strayHeaders, body: customImBody, kind: 'custom-im-like' },
  ];
}
