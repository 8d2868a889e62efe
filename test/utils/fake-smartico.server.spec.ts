import { expect } from '@jest/globals';

import { HostAllowlist } from '../../src/common/host-allowlist';
import { CallbackAddressGuard } from '../../src/tracking/address-guard';
import { CallbackClient } from '../../src/tracking/callback.client';
import { FakeSmarticoServer } from './fake-smartico.server';

describe('FakeSmarticoServer', () => {
  let sut: FakeSmarticoServer;
  const client = new CallbackClient(new CallbackAddressGuard(new HostAllowlist(['127.0.0.1'])), { timeoutMs: 2_000 });

  beforeEach(async () => {
    sut = await FakeSmarticoServer.start();
  });

  afterEach(() => sut.close());
  afterAll(() => client.close());

  it('records requests in order with their time, full URL and parsed query', async () => {
    const before = Date.now();
    await client.send(sut.url('/a?n=1'));
    await client.send(sut.url('/b?n=2&x=y%20z'));

    const requests = await sut.waitForRequests(2);
    expect(requests.map((request) => request.url)).toEqual([sut.url('/a?n=1'), sut.url('/b?n=2&x=y%20z')]);
    expect(requests[1].query).toEqual({ n: '2', x: 'y z' });
    expect(requests[0].at.getTime()).toBeGreaterThanOrEqual(before);
    expect(requests[1].at.getTime()).toBeGreaterThanOrEqual(requests[0].at.getTime());
  });

  it('applies failNext to the next requests only, then the persistent mode', async () => {
    sut.setMode({ status: 500 });
    sut.failNext(2, { status: 502 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await client.send(sut.url())).httpStatus);
    expect(statuses).toEqual([502, 502, 500]);
  });

  it('waitForRequests rejects when too few requests arrive in time', async () => {
    await expect(sut.waitForRequests(1, 50)).rejects.toThrow('got 0 of 1 requests within 50 ms');
  });

  it('close() drops hanging requests instead of waiting for them', async () => {
    sut.setMode('hang');
    const pending = client.send(sut.url());
    await sut.waitForRequests(1);
    const started = Date.now();
    await sut.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(pending).resolves.toMatchObject({ ok: false, error: 'connection reset' });
  });
});
