/** CALLBACK_ALLOWED_HOSTS patterns, matched on the host as URL normalises it (`127.1` is `127.0.0.1`). */
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

  /** Only a host listed exactly, not through a pattern, may be a private, loopback or link-local address. */
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
