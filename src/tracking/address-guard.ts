import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

import ipaddr from 'ipaddr.js';

import { HostAllowlist } from '../common/host-allowlist';

export type ResolvedAddress = { address: string; family: number };
export type LookupAll = (hostname: string) => Promise<ResolvedAddress[]>;

export type AddressCheck = { ok: true; address: string; family: 4 | 6 } | { ok: false; reason: string };

const systemLookup: LookupAll = (hostname) => lookup(hostname, { all: true, verbatim: true });

/**
 * Every address a callback host resolves to must be public unicast (or allow-listed), and the caller connects to the
 * returned address, so a second resolution cannot swap one in. A failing lookup rejects: it is not a refusal.
 */
export class CallbackAddressGuard {
  private readonly lookup: LookupAll;

  constructor(
    private readonly allowlist: HostAllowlist,
    options: { lookup?: LookupAll } = {},
  ) {
    this.lookup = options.lookup ?? systemLookup;
  }

  async check(url: URL): Promise<AddressCheck> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return refuse(`scheme ${url.protocol} not allowed`);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!this.allowlist.allows(host)) return refuse(`host ${host} not allowed`);

    const resolved = isIP(host) ? [host] : (await this.lookup(host)).map((entry) => entry.address);
    if (resolved.length === 0) return refuse(`host ${host} has no address`);

    const hostNamed = this.allowlist.namesExplicitly(host);
    const addresses = [];
    for (const raw of resolved) {
      if (!ipaddr.isValid(raw)) return refuse(`${host} resolves to unparsable ${raw}`);
      // process() unwraps ::ffff:a.b.c.d so the IPv4 ranges apply to it
      const ip = ipaddr.process(raw);
      const range = ip.range();
      const named = hostNamed || this.allowlist.namesExplicitly(raw) || this.allowlist.namesExplicitly(ip.toString());
      if (range !== 'unicast' && !named) return refuse(`${host} resolves to ${ip.toString()} (${range})`);
      addresses.push(ip);
    }
    return { ok: true, address: addresses[0].toString(), family: addresses[0].kind() === 'ipv4' ? 4 : 6 };
  }
}

function refuse(reason: string): AddressCheck {
  return { ok: false, reason };
}
