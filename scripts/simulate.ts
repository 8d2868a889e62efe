// Smartico simulator: posts Custom IM requests to the gateway exactly as Smartico's "Custom IM"
// activity does (seed 002), and runs the callback endpoint Smartico would, printing each status
// callback as it arrives. `npm run simulate -- --help` for the options.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = `Usage: npm run simulate -- --user <ext_user_id> [options]

  --user <id>             the player (ext_user_id) to message                       (required)
  --count <n>             how many messages to post                                 (1)
  --rate <r>              messages per second                                       (1)
  --template <file>       JSON: {"body", "extension"}, or just the extension object;
                          "{{n}}", "{{user}}" and "{{url}}" in strings are filled in (Smartico's
                          stock-trading example with an image and a call to action)
  --display <d>           set extension.display: popup | inbox | both
  --priority <p>          set extension.priority: high | normal
  --url <url>             where cim-inbox is                                        (http://127.0.0.1:3000)
  --authorization <s>     the gateway secret      (CIM_AUTHORIZATION, else DATA_DIR/dev-secrets.json)
  --callback-host <host>  how cim-inbox reaches this simulator's callback endpoint    (127.0.0.1)
  --wait <seconds>        stop this long after the last post                (default: run until Ctrl-C)
`;

interface Template {
  body: string;
  extension: Record<string, unknown>;
}

// seed 002's example template, plus the well-known keys cim-inbox acts on (an operator asks
// Smartico for these fields too); the links point at this server's demo so the tour stays local
const STOCK_TRADING: Template = {
  body: 'Best offer ever',
  extension: {
    title: 'Microsoft is raising',
    description: 'The bullish trend...',
    action: 'BUY',
    instrument: 'MSFT',
    image_url: '{{url}}/demo/assets/chart.svg',
    cta_url: '{{url}}/demo/landing?instrument=MSFT&action=BUY',
    cta_text: 'Trade MSFT',
  },
};

interface Sent {
  n: number;
  imUid: string;
  postedAt: number;
  statuses: string[];
}

function fail(message: string): never {
  process.stderr.write(`simulate: ${message}\n`);
  process.exit(2);
}

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        user: { type: 'string' },
        count: { type: 'string', default: '1' },
        rate: { type: 'string', default: '1' },
        template: { type: 'string' },
        display: { type: 'string' },
        priority: { type: 'string' },
        url: { type: 'string', default: 'http://127.0.0.1:3000' },
        authorization: { type: 'string' },
        'callback-host': { type: 'string', default: '127.0.0.1' },
        wait: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const user = values.user?.trim();
  if (!user) fail(`--user is required\n\n${USAGE}`);
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1 || count > 100_000) fail('--count must be an integer from 1 to 100000');
  const rate = Number(values.rate);
  if (!(rate > 0 && rate <= 1000)) fail('--rate must be a number of messages per second, above 0 and at most 1000');
  if (values.display !== undefined && !['popup', 'inbox', 'both'].includes(values.display)) fail('--display must be popup, inbox or both');
  if (values.priority !== undefined && !['high', 'normal'].includes(values.priority)) fail('--priority must be high or normal');
  const wait = values.wait === undefined ? undefined : Number(values.wait);
  if (wait !== undefined && !(wait >= 0)) fail('--wait must be a number of seconds');
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    fail(`--url is not a URL: ${values.url}`);
  }
  const base = url.href.replace(/\/+$/, '');
  return {
    user,
    count,
    rate,
    wait,
    base,
    callbackHost: values['callback-host'],
    display: values.display,
    priority: values.priority,
    templateFile: values.template,
    authorization: values.authorization,
  };
}

function readDevSecrets(): { file: string; authorization?: string; apiKey?: string } {
  const file = join(resolve(process.env.DATA_DIR ?? './.data'), 'dev-secrets.json');
  try {
    return { file, ...(JSON.parse(readFileSync(file, 'utf8')) as { authorization?: string; apiKey?: string }) };
  } catch {
    return { file };
  }
}

function readTemplate(file: string | undefined): Template {
  if (file === undefined) return STOCK_TRADING;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`--template ${file}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail(`--template ${file}: must be a JSON object`);
  const object = parsed as Record<string, unknown>;
  if ('extension' in object || 'body' in object) {
    const extension = object.extension ?? {};
    if (typeof extension !== 'object' || extension === null || Array.isArray(extension)) fail(`--template ${file}: "extension" must be an object`);
    return { body: typeof object.body === 'string' ? object.body : STOCK_TRADING.body, extension: extension as Record<string, unknown> };
  }
  return { body: STOCK_TRADING.body, extension: object };
}

function fill<T>(value: T, vars: Record<string, string>): T {
  if (typeof value === 'string') return value.replace(/\{\{(\w+)\}\}/g, (match, name: string) => vars[name] ?? match) as T;
  if (Array.isArray(value)) return (value as unknown[]).map((item) => fill(item, vars)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fill(item, vars)])) as T;
  }
  return value;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));
const clock = (): string => new Date().toISOString().slice(11, 23);
const seconds = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

async function main(): Promise<void> {
  const options = parseOptions();
  const secrets = readDevSecrets();
  const authorization = options.authorization ?? process.env.CIM_AUTHORIZATION ?? secrets.authorization;
  if (!authorization) {
    fail(
      `no gateway secret: pass --authorization, set CIM_AUTHORIZATION, or start the server in dev mode first (\`npm start\`) so that ${secrets.file} exists`,
    );
  }
  const shortFile = relative(process.cwd(), secrets.file).startsWith('..') ? secrets.file : relative(process.cwd(), secrets.file);
  const source = options.authorization ? '--authorization' : process.env.CIM_AUTHORIZATION ? 'CIM_AUTHORIZATION' : shortFile;
  const template = readTemplate(options.templateFile);
  const runId = randomBytes(3).toString('hex');
  const byMessageId = new Map<string, Sent>();
  const counts = new Map<string, number>();
  let refused = 0;
  let unreachable = 0;

  // Smartico's side of the status callbacks: GET <callback_url>&type=cim&ext_message_id=…&status=…&api_key=…
  const receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const id = url.searchParams.get('ext_message_id') ?? '?';
    const status = url.searchParams.get('status') ?? '?';
    const sent = byMessageId.get(id);
    sent?.statuses.push(status);
    counts.set(status, (counts.get(status) ?? 0) + 1);
    const problems: string[] = [];
    if (url.searchParams.get('type') !== 'cim') problems.push(`type=${url.searchParams.get('type')}`);
    if (secrets.apiKey !== undefined && !options.authorization && url.searchParams.get('api_key') !== secrets.apiKey) problems.push('api_key does not match');
    const latency = sent === undefined ? '' : `+${seconds(Date.now() - sent.postedAt)} since post`;
    const which = sent === undefined ? '(not from this run)' : `#${sent.n}`;
    console.log(`${clock()}  callback  ${status.padEnd(9)} ext_message_id=${id}  ${which}  ${latency}${problems.length ? `  !! ${problems.join(', ')}` : ''}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"error_code":0}');
  });
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(options.callbackHost);
  await new Promise<void>((done) => receiver.listen(0, loopback ? '127.0.0.1' : '0.0.0.0', done));
  const port = (receiver.address() as AddressInfo).port;
  const callbackUrl = `http://${options.callbackHost}:${port}/smartico/callback?label=simulator`;

  const stop = (): void => {
    receiver.close();
    const accepted = byMessageId.size;
    const summary = ['delivered', 'opened', 'clicked', 'failed', 'rejected'].map((status) => `${status} ${counts.get(status) ?? 0}`).join(', ');
    console.log(`\n${options.count} posted, ${accepted} accepted, ${refused} refused; callbacks: ${summary}`);
    process.exit(refused > 0 ? 1 : 0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  console.log(`cim-inbox simulator: posting as Smartico to ${options.base}/gateway/custom-im (gateway secret from ${source})`);
  console.log(`callbacks to ${callbackUrl}\n`);
  const interval = 1000 / options.rate;
  const start = Date.now();
  for (let n = 1; n <= options.count; n++) {
    await sleep(Math.max(0, start + (n - 1) * interval - Date.now()));
    const vars = { n: String(n), user: options.user, url: options.base };
    const extension = fill(template.extension, vars);
    if (options.display !== undefined) extension.display = options.display;
    if (options.priority !== undefined) extension.priority = options.priority;
    // numbered, so that several copies of the default message are told apart on screen
    if (template === STOCK_TRADING && options.count > 1) extension.title = `${String(extension.title)} #${n}`;
    const imUid = `sim-${runId}-${n}`;
    const request = { ext_user_id: options.user, from_number: null, body: fill(template.body, vars), im_uid: imUid, callback_url: callbackUrl, extension };
    const postedAt = Date.now();
    try {
      const response = await fetch(`${options.base}/gateway/custom-im`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify(request),
      });
      const reply = (await response.json()) as { error_code?: number; ext_message_id?: string; error_message?: string };
      const took = `(${Date.now() - postedAt} ms)`;
      if (reply.error_code === 0 && reply.ext_message_id) {
        byMessageId.set(reply.ext_message_id, { n, imUid, postedAt, statuses: [] });
        console.log(`${clock()}  posted #${n}  im_uid=${imUid}  → error_code 0, ext_message_id=${reply.ext_message_id}  ${took}`);
      } else {
        refused++;
        console.log(`${clock()}  posted #${n}  im_uid=${imUid}  → error_code ${reply.error_code}: ${reply.error_message}  ${took}`);
      }
    } catch (error) {
      refused++;
      unreachable++;
      const cause = (error as Error & { cause?: { code?: string } }).cause?.code;
      console.log(`${clock()}  posted #${n}  im_uid=${imUid}  → no answer: ${(error as Error).message}${cause ? ` (${cause})` : ''}`);
    }
  }
  // nothing was accepted: no callback will ever come, so waiting for them would wait for ever
  if (byMessageId.size === 0) {
    console.log(
      unreachable > 0
        ? `\nno answer from cim-inbox at ${options.base}: is it running (npm start)? Point --url at it otherwise.`
        : '\nnothing was accepted, so no callback will come.',
    );
    stop();
    return;
  }
  if (options.wait !== undefined) {
    console.log(`\nlistening for callbacks for ${options.wait} s…`);
    setTimeout(stop, options.wait * 1000);
  } else {
    console.log('\nlistening for callbacks (open the demo page for this player to see delivered, opened, clicked); Ctrl-C to stop');
  }
}

void main();
