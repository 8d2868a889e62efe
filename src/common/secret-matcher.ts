import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant time: every candidate is compared, as SHA-256 digests so lengths never differ. */
export class SecretMatcher<T> {
  private readonly entries: Array<{ digest: Buffer; owner: T }>;

  constructor(secrets: ReadonlyArray<readonly [secret: string, owner: T]>) {
    this.entries = secrets.map(([secret, owner]) => ({ digest: digest(secret), owner }));
  }

  match(presented: string | undefined): T | undefined {
    const candidate = digest(presented ?? '');
    let found: T | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, candidate) && presented !== undefined && presented.length > 0) found = entry.owner;
    }
    return found;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
