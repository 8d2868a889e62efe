import { randomUUID } from 'node:crypto';

import { createTestApp, TestApp } from '../utils/create-test-app';
import { eventually } from '../utils/eventually';
import { FakeSmarticoServer } from '../utils/fake-smartico.server';
import { customIm, postGateway } from '../utils/gateway-client';
import { playerToken } from '../utils/player-tokens';
import { sample } from '../utils/prometheus';
import { SocketPlayer } from '../utils/socket-player';

describe('GET /metrics (SPEC §6)', () => {
  let sut: TestApp;
  let smartico: FakeSmarticoServer;

  beforeAll(async () => {
    smartico = await FakeSmarticoServer.start();
    sut = await createTestApp({ callbackAllowedHosts: ['*.smartico.ai', '127.0.0.1'] });
  });

  afterAll(async () => {
    await sut.close();
    await smartico.close();
  });

  const scrape = async (): Promise<string> => {
    const response = await fetch(`${sut.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    return response.text();
  };

  it('counts what traffic did, by the right amounts', async () => {
    const before = await scrape();
    const playerId = `player-${randomUUID()}`;
    const socket = await SocketPlayer.connect(sut.url, await playerToken(playerId));
    try {
      await socket.waitForUnread(0);
      const connected = await scrape();
      expect(sample(connected, 'cim_sockets_connected') - sample(before, 'cim_sockets_connected')).toBe(1);

      const ids: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        const reply = await postGateway(sut.url, customIm({ ext_user_id: playerId, callback_url: smartico.url('/cb') }));
        ids.push(String(reply.json.ext_message_id));
      }
      await postGateway(sut.url, customIm(), { authorization: 'wrong' });
      await postGateway(sut.url, '{broken', {});
      await postGateway(sut.url, customIm({ body: 7 }), {});
      await socket.waitForMessages(3);
      // acks and callbacks are recorded asynchronously: wait until the last of them shows
      const settled = async (): Promise<string> => {
        const text = await scrape();
        expect(
          sample(text, 'cim_callbacks_total', { status: 'delivered', result: 'sent' }) -
            sample(before, 'cim_callbacks_total', { status: 'delivered', result: 'sent' }),
        ).toBe(3);
        expect(sample(text, 'cim_callbacks_pending')).toBe(0);
        return text;
      };
      const after = await eventually(settled, { what: 'the three callbacks in the metrics', timeoutMs: 5_000 });
      const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
      expect(delta('cim_messages_accepted_total', { brand: 'default' })).toBe(3);
      // a refusal counts under the brand its Authorization names; an unknown one names none
      expect(delta('cim_messages_refused_total', { code: '1', brand: '' })).toBe(1);
      expect(delta('cim_messages_refused_total', { code: '2', brand: 'default' })).toBe(2);
      expect(delta('cim_gateway_request_duration_seconds_count')).toBe(6);
      expect(delta('cim_delivery_latency_seconds_count', { brand: 'default' })).toBe(3);
      expect(delta('cim_push_ack_latency_seconds_count')).toBe(3);
      expect(delta('cim_callbacks_total', { status: 'delivered', result: 'sent' })).toBe(3);
      expect(sample(after, 'cim_callbacks_pending')).toBe(0);
      expect(sample(after, 'cim_callbacks_dead')).toBe(0);
      expect(after).toMatch(/^cim_outbox_lag_seconds \d/m);
      expect(after).toMatch(/^process_resident_memory_bytes \d/m);
      expect(after).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    } finally {
      socket.close();
    }
    const disconnected = async (): Promise<void> => {
      expect(sample(await scrape(), 'cim_sockets_connected')).toBe(sample(before, 'cim_sockets_connected'));
    };
    await eventually(disconnected, { what: 'the socket to be counted out', timeoutMs: 5_000 });
  });
});
