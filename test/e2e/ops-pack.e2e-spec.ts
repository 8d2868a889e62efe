import { randomUUID } from 'node:crypto';

import { createTestApp, TestApp } from '../utils/create-test-app';
import { eventually } from '../utils/eventually';
import { FakeSmarticoServer } from '../utils/fake-smartico.server';
import { FAST_RETRY_CALLBACKS } from '../utils/fast-callbacks';
import { customIm, postGateway } from '../utils/gateway-client';
import { familyOf, loadRules, metricNames, packExpressions, promtool, scrapeNames } from '../utils/ops-pack';
import { playerToken } from '../utils/player-tokens';
import { sample } from '../utils/prometheus';
import { SocketPlayer } from '../utils/socket-player';
import { TcpProxy } from '../utils/tcp-proxy';
import { createTestDatabase, TestDatabase } from '../utils/test-database';

const scrape = async (url: string): Promise<string> => {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
};

describe('the operations pack (deploy/) against a live /metrics scrape', () => {
  let sut: TestApp;
  let peer: TestApp;
  let smartico: FakeSmarticoServer;
  let failing: FakeSmarticoServer;
  /** the first instance's scrape (the leader's), then its peer's */
  let scrapes: string[];

  // traffic that fills every series the pack reads: acceptances (one through a second instance, so fan-out is
  // counted), refusals, a socket with acks, sent and dead callbacks
  beforeAll(async () => {
    smartico = await FakeSmarticoServer.start();
    failing = await FakeSmarticoServer.start();
    failing.setMode({ status: 500 });
    sut = await createTestApp({ callbacks: FAST_RETRY_CALLBACKS });
    peer = await createTestApp({ callbacks: FAST_RETRY_CALLBACKS }, { database: sut.database });
    const playerId = `player-${randomUUID()}`;
    const socket = await SocketPlayer.connect(sut.url, await playerToken(playerId));
    try {
      for (const [instance, callbackUrl] of [
        [sut, smartico.url()],
        [sut, failing.url()],
        [peer, smartico.url()],
      ] as const) {
        expect((await postGateway(instance.url, customIm({ ext_user_id: playerId, callback_url: callbackUrl }))).json.error_code).toBe(0);
      }
      expect((await postGateway(sut.url, customIm(), { authorization: 'wrong' })).json.error_code).toBe(1);
      expect((await postGateway(sut.url, '{broken')).json.error_code).toBe(2);
      await socket.waitForMessages(3);
      const first = await eventually(
        async () => {
          const settled = await scrape(sut.url);
          expect(sample(settled, 'cim_leader')).toBe(1);
          expect(sample(settled, 'cim_fanout_received_total', { for_players_here: 'true' })).toBe(1);
          expect(sample(settled, 'cim_callbacks_dead')).toBe(1);
          return settled;
        },
        { what: 'the leader to count the dead callback and the message heard from its peer', timeoutMs: 10_000 },
      );
      scrapes = [first, await scrape(peer.url)];
    } finally {
      socket.close();
    }
  });

  afterAll(async () => {
    await peer?.close();
    await sut?.close();
    await smartico?.close();
    await failing?.close();
  });

  it('fills the series with the traffic: sent, failed and dead callbacks, delivery and push latencies', () => {
    const total = (name: string, labels: Record<string, string> = {}): number => scrapes.reduce((sum, text) => sum + sample(text, name, labels), 0);
    expect(total('cim_callbacks_total', { status: 'delivered', result: 'sent' })).toBe(2);
    expect(total('cim_callbacks_total', { status: 'delivered', result: 'dead' })).toBe(1);
    expect(total('cim_callbacks_total', { status: 'delivered', result: 'failed' })).toBeGreaterThan(0);
    expect(sample(scrapes[0], 'cim_delivery_latency_seconds_count', { brand: 'default' })).toBe(3);
    expect(sample(scrapes[0], 'cim_push_ack_latency_seconds_count')).toBe(3);
    expect(sample(scrapes[1], 'cim_fanout_announced_total')).toBe(1);
  });

  it('passes `promtool check metrics` (naming, HELP and TYPE conventions) on each instance', async () => {
    for (const text of scrapes) {
      const run = await promtool(['check', 'metrics'], text);
      expect(run.output).toBe('');
      expect(run.status).toBe(0);
    }
  });

  it('exports every metric a dashboard panel, a template variable or a rule reads', () => {
    const samples = new Set(scrapes.flatMap((text) => [...scrapeNames(text).samples]));
    const recorded = new Set(loadRules().flatMap((rule) => (rule.record === undefined ? [] : [rule.record])));
    const expressions = packExpressions();
    expect(expressions.length).toBeGreaterThan(20);
    const missing = expressions.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((name) => !samples.has(name) && !recorded.has(name) && name !== 'up')
        .map((name) => `${where}: ${name}`),
    );
    expect(missing).toEqual([]);
  });

  it('shows in the dashboard and the rules every family SPEC §6 and the issue name', () => {
    const { types } = scrapeNames(scrapes[0]);
    const used = new Set(packExpressions().flatMap(({ expr }) => metricNames(expr).map((name) => familyOf(name, types))));
    for (const family of [
      'cim_messages_accepted_total',
      'cim_messages_refused_total',
      'cim_gateway_request_duration_seconds',
      'cim_sockets_connected',
      'cim_delivery_latency_seconds',
      'cim_callbacks_total',
      'cim_callbacks_pending',
      'cim_callbacks_dead',
      'cim_outbox_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'cim_retention_deleted_total',
      'cim_oldest_message_age_seconds',
      'cim_ready',
    ]) {
      expect([family, used.has(family)]).toEqual([family, true]);
    }
  });

  it('reports cim_ready 1 while /health/ready answers 200', async () => {
    expect((await fetch(`${sut.url}/health/ready`)).status).toBe(200);
    expect(sample(await scrape(sut.url), 'cim_ready')).toBe(1);
  });
});

describe('the series the readiness and error_code 5 alerts read, with the database unreachable', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let sut: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    proxy = TcpProxy.forUrl(database.url);
    await proxy.start();
    sut = await createTestApp({ databaseUrl: proxy.rewrite(database.url) }, { database });
  });

  afterAll(async () => {
    await sut?.close();
    await proxy?.stop();
    await database?.drop();
  });

  it('keeps /metrics answering, with cim_ready 0 and the refusals with code 5 counted, and cim_ready back to 1 after', async () => {
    const before = await scrape(sut.url);
    expect(sample(before, 'cim_ready')).toBe(1);
    await proxy.cut();
    expect((await postGateway(sut.url, customIm())).json.error_code).toBe(5);
    const down = await scrape(sut.url);
    expect(sample(down, 'cim_ready')).toBe(0);
    expect(
      sample(down, 'cim_messages_refused_total', { code: '5', brand: 'default' }) -
        sample(before, 'cim_messages_refused_total', { code: '5', brand: 'default' }),
    ).toBe(1);
    await proxy.restore();
    await eventually(async () => sample(await scrape(sut.url), 'cim_ready') === 1, { what: 'cim_ready back to 1', timeoutMs: 20_000 });
  });
});
