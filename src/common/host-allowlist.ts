/**
 * Host patterns from CALLBACK_ALLOWED_HOSTS: `*` (any host), `*.example.com` (any subdomain of
 * example.com, not the apex), or an exact host name or IP literal. Matching is on the host as the
 * WHATWG URL parser normalises it, so `0x7f000001`, `2130706433` and `127.1` all become `127.0.0.1`.
 */
export class HostAllowlist {
  private readonly anyHost: boolean;
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];

  constructor(patterns: readonly string[]) {
    this.anyHost = patterns.includes('*');
    for (const pattern of patterns) {
      if (pattern === '*') continue;
      if (pattern.startsWith('*.')) {
        this.suffixes.push(`.${normaliseHost(pattern.slice(2))}`);
      } else {
        this.exact.add(normaliseHost(pattern));
      }
    }
  }

  get allowsAnyHost(): boolean {
    return this.anyHost;
  }

  /** `hostname` as `URL.hostname` gives it (IPv6 in brackets is accepted too). */
  allows(hostname: string): boolean {
    if (this.anyHost) return true;
    const host = stripBrackets(hostname.toLowerCase()).replace(/\.$/, '');
    if (this.exact.has(host)) return true;
    return this.suffixes.some((suffix) => host.endsWith(suffix) && host.length > suffix.length);
  }

  /**
   * Whether the host (a name or an IP) is listed exactly, not through `*` or a `*.` pattern: only
   * such an entry lets a callback reach a private, loopback or link-local address.
   */
  namesExplicitly(hostname: string): boolean {
    return this.exact.has(stripBrackets(hostname.toLowerCase()).replace(/\.$/, ''));
  }
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function normaliseHost(pattern: string): string {
  const trimmed = pattern.trim().toLowerCase();
  try {
    const needsBrackets = trimmed.includes(':') && !trimmed.startsWith('[');
    return stripBrackets(new URL(`http://${needsBrackets ? `[${trimmed}]` : trimmed}/`).hostname).replace(/\.$/, '');
  } catch {
    return stripBrackets(trimmed).replace(/\.$/, '');
  }
}
