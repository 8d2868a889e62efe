import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

import { loadEnvConfig } from '../../src/config/app.config';

const root = join(__dirname, '..', '..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

/** Docker Compose variable substitution, enough for ${VAR}, ${VAR:-default} and ${VAR:?error}. */
function substitute(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_match, name: string, kind?: string, rest?: string) => {
    if (env[name] !== undefined && env[name] !== '') return env[name];
    if (kind === '?') throw new Error(`${name} is required: ${rest}`);
    return kind === '-' ? (rest ?? '') : '';
  });
}

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml')) as {
    services: Record<string, { environment: Record<string, string>; depends_on?: Record<string, { condition: string }>; healthcheck?: unknown }>;
  };
  const app = compose.services.app;

  it('runs the app next to PostgreSQL, starting once PostgreSQL is healthy', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['app', 'postgres']);
    expect(compose.services.postgres.healthcheck).toBeDefined();
    expect(app.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  });

  it('names every variable a production deployment needs', () => {
    for (const name of ['PORT', 'HOST', 'DATABASE_URL', 'CIM_GATEWAYS', 'CALLBACK_ALLOWED_HOSTS', 'PLAYER_JWT_SECRET', 'SUPPORT_API_KEYS', 'LOG_LEVEL']) {
      expect(app.environment).toHaveProperty(name);
    }
  });

  it('refuses to start without the operator secrets', () => {
    expect(() => substitute(app.environment.CIM_GATEWAYS, {})).toThrow(/CIM_GATEWAYS is required/);
    expect(() => substitute(app.environment.PLAYER_JWT_SECRET, {})).toThrow(/PLAYER_JWT_SECRET is required/);
    expect(() => substitute(app.environment.SUPPORT_API_KEYS, {})).toThrow(/SUPPORT_API_KEYS is required/);
  });

  it('yields an environment the app accepts in production mode', () => {
    const operator = {
      CIM_GATEWAYS: '[{"id":"brand-a","authorization":"s3cret","apiKey":"k3y"}]',
      PLAYER_JWT_SECRET: 'a-player-secret-of-at-least-32-bytes!!',
      SUPPORT_API_KEYS: 'support-1',
    };
    const env = Object.fromEntries(Object.entries(app.environment).map(([name, value]) => [name, substitute(String(value), operator)]));
    const config = loadEnvConfig({ ...env, NODE_ENV: 'production' });
    expect(config.databaseUrl).toBe('postgres://cim:cim@postgres:5432/cim');
    expect(config.gateways.map((gateway) => gateway.id)).toEqual(['brand-a']);
    expect(config.port).toBe(3000);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('builds in two stages (build, then runtime) and runs pruned production dependencies as a non-root user with a health check', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/health\/ready/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/main.js"\]$/m);
  });
});
