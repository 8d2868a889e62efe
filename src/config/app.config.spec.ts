import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadEnvConfig, withDevDefaults } from './app.config';
import { ConfigError } from './env.validation';

const BRANDED = JSON.stringify([
  { id: 'gw-alpha', authorization: 'secret-alpha', apiKey: 'key-alpha', brand: 'alpha' },
  { id: 'gw-beta', authorization: 'secret-beta', apiKey: 'key-beta', brand: 'beta' },
]);
const SECRET_32 = 'a-secret-that-is-32-bytes-long-0123456789';

const GATEWAYS = JSON.stringify([
  { id: 'brand-a', authorization: 'secret-a', apiKey: 'key-a' },
  { id: 'brand-b', authorization: 'secret-b', apiKey: 'key-b' },
]);

function loadError(env: NodeJS.ProcessEnv): string {
  try {
    loadEnvConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadEnvConfig', () => {
  it('applies the SPEC §1 defaults', () => {
    const sut = loadEnvConfig({ CIM_AUTHORIZATION: 'secret', SMARTICO_API_KEY: 'key' });
    expect(sut).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      databaseUrl: undefined,
      devMode: false,
      callbackAllowedHosts: ['*.smartico.ai'],
      logLevel: 'info',
      supportApiKeys: [],
    });
    expect(sut.dataDir).toBe(join(process.cwd(), '.data'));
  });

  it('reads several gateways from CIM_GATEWAYS', () => {
    expect(loadEnvConfig({ CIM_GATEWAYS: GATEWAYS }).gateways.map((gateway) => gateway.id)).toEqual(['brand-a', 'brand-b']);
  });

  it('turns the CIM_AUTHORIZATION + SMARTICO_API_KEY shorthand into the gateway "default"', () => {
    expect(loadEnvConfig({ CIM_AUTHORIZATION: 'secret', SMARTICO_API_KEY: 'key' }).gateways).toEqual([
      { id: 'default', authorization: 'secret', apiKey: 'key', brand: 'default' },
    ]);
  });

  it('gives a gateway the brand "default" unless it names one, and lets several gateways share a brand', () => {
    const gateways = [
      { id: 'casino-de', authorization: 'secret-de', apiKey: 'key-de', brand: 'casino' },
      { id: 'casino-mt', authorization: 'secret-mt', apiKey: 'key-mt', brand: 'casino' },
      { id: 'legacy', authorization: 'secret-l', apiKey: 'key-l' },
    ];
    expect(loadEnvConfig({ CIM_GATEWAYS: JSON.stringify(gateways) }).gateways.map((gateway) => [gateway.id, gateway.brand])).toEqual([
      ['casino-de', 'casino'],
      ['casino-mt', 'casino'],
      ['legacy', 'default'],
    ]);
  });

  it("reads each brand's own keys from CIM_BRANDS", () => {
    const sut = loadEnvConfig({
      CIM_GATEWAYS: BRANDED,
      PLAYER_JWT_SECRET: 'global-secret-0123456789-0123456789-0123',
      CIM_BRANDS: JSON.stringify([{ id: 'alpha', playerJwtSecret: 'alpha-secret-0123456789-0123456789-0123', supportApiKeys: ['alpha-support'] }]),
    });
    expect(sut.brands).toEqual([
      { id: 'alpha', playerJwtSecret: 'alpha-secret-0123456789-0123456789-0123', supportApiKeys: ['alpha-support'], operatorApiKeys: [] },
    ]);
  });

  it('splits comma lists and trims them', () => {
    const sut = loadEnvConfig({ CIM_GATEWAYS: GATEWAYS, CALLBACK_ALLOWED_HOSTS: ' *.smartico.ai, 127.0.0.1 ,', SUPPORT_API_KEYS: 'k1,k2' });
    expect(sut.callbackAllowedHosts).toEqual(['*.smartico.ai', '127.0.0.1']);
    expect(sut.supportApiKeys).toEqual(['k1', 'k2']);
  });

  it('turns the demo page on with DEMO=true (dev mode has it anyway)', () => {
    expect(loadEnvConfig({ CIM_GATEWAYS: GATEWAYS }).demo).toBe(false);
    expect(loadEnvConfig({ CIM_GATEWAYS: GATEWAYS, DEMO: 'true' }).demo).toBe(true);
    expect(loadEnvConfig({ CIM_GATEWAYS: GATEWAYS, DEMO: 'false' }).demo).toBe(false);
  });

  it('reads the operator API: keys, exempt categories (default, or none when empty) and the action URL with its secret', () => {
    const sut = loadEnvConfig({
      CIM_GATEWAYS: GATEWAYS,
      OPERATOR_API_KEYS: 'op-1,op-2',
      OPERATOR_ACTION_URL: 'https://platform.example/cim-actions',
      OPERATOR_ACTION_SECRET: 'an-action-secret-that-is-32-chars-long',
    });
    expect(sut.operatorApiKeys).toEqual(['op-1', 'op-2']);
    expect(sut.suppressionExemptCategories).toEqual(['service', 'responsible_gambling']);
    expect(sut.operatorActions).toEqual({ url: 'https://platform.example/cim-actions', secret: 'an-action-secret-that-is-32-chars-long', waitMs: 10_000 });
    expect(loadEnvConfig({ CIM_GATEWAYS: GATEWAYS, SUPPRESSION_EXEMPT_CATEGORIES: '' }).suppressionExemptCategories).toEqual([]);
    expect(loadEnvConfig({ CIM_GATEWAYS: GATEWAYS, SUPPRESSION_EXEMPT_CATEGORIES: ' kyc , service' }).suppressionExemptCategories).toEqual(['kyc', 'service']);
    expect(loadEnvConfig({ CIM_GATEWAYS: GATEWAYS }).operatorActions).toBeUndefined();
  });

  it('keeps messages 90 days unless MESSAGE_RETENTION_DAYS says otherwise (0: for ever)', () => {
    expect(loadEnvConfig({ CIM_GATEWAYS: GATEWAYS }).retention).toEqual({ days: 90, sweepMs: 60_000 });
    expect(loadEnvConfig({ CIM_GATEWAYS: GATEWAYS, MESSAGE_RETENTION_DAYS: '0' }).retention.days).toBe(0);
    expect(() => loadEnvConfig({ CIM_GATEWAYS: GATEWAYS, MESSAGE_RETENTION_DAYS: '-1' })).toThrow('MESSAGE_RETENTION_DAYS is invalid');
  });

  it.each([
    [{ CIM_GATEWAYS: GATEWAYS, OPERATOR_ACTION_URL: 'https://platform.example/a' }, 'OPERATOR_ACTION_SECRET is required: the two go together'],
    [{ CIM_GATEWAYS: GATEWAYS, OPERATOR_ACTION_SECRET: 'an-action-secret-that-is-32-chars-long' }, 'OPERATOR_ACTION_URL is required: the two go together'],
    [{ CIM_GATEWAYS: GATEWAYS, OPERATOR_ACTION_URL: 'https://platform.example/a', OPERATOR_ACTION_SECRET: 'short' }, 'OPERATOR_ACTION_SECRET is invalid'],
    [
      { CIM_GATEWAYS: GATEWAYS, OPERATOR_ACTION_URL: 'ftp://platform.example/a', OPERATOR_ACTION_SECRET: 'an-action-secret-that-is-32-chars-long' },
      'OPERATOR_ACTION_URL is invalid',
    ],
    [{ CIM_GATEWAYS: GATEWAYS, DEMO: 'yes' }, 'DEMO is invalid: must be true or false'],
    [{ CIM_GATEWAYS: '[{"id":' }, 'CIM_GATEWAYS is not valid JSON'],
    [{ CIM_GATEWAYS: '{}' }, 'CIM_GATEWAYS is invalid'],
    [{ CIM_GATEWAYS: '[]' }, 'CIM_GATEWAYS is invalid: must list at least one gateway'],
    [{ CIM_GATEWAYS: '[{"id":"a","authorization":"s"}]' }, 'CIM_GATEWAYS is invalid at [0].[apiKey]'],
    [{ CIM_GATEWAYS: '[{"id":"a b","authorization":"s","apiKey":"k"}]' }, 'CIM_GATEWAYS is invalid at [0].[id]'],
    [
      { CIM_GATEWAYS: '[{"id":"a","authorization":"s","apiKey":"k"},{"id":"a","authorization":"t","apiKey":"k"}]' },
      'CIM_GATEWAYS is invalid at [1].[id]: duplicate gateway id "a"',
    ],
    [
      { CIM_GATEWAYS: '[{"id":"a","authorization":"s","apiKey":"k"},{"id":"b","authorization":"s","apiKey":"k"}]' },
      'CIM_GATEWAYS is invalid at [1].[authorization]: two gateways share one authorization value',
    ],
    [{ CIM_GATEWAYS: GATEWAYS, CIM_AUTHORIZATION: 'x' }, 'CIM_GATEWAYS and CIM_AUTHORIZATION are both set'],
    [{ CIM_AUTHORIZATION: 'secret' }, 'SMARTICO_API_KEY is required when CIM_AUTHORIZATION is set'],
    [{ SMARTICO_API_KEY: 'key' }, 'CIM_AUTHORIZATION is required when SMARTICO_API_KEY is set'],
    [{ CIM_GATEWAYS: GATEWAYS, PORT: 'eighty' }, 'PORT is invalid'],
    [{ CIM_GATEWAYS: GATEWAYS, PORT: '70000' }, 'PORT is invalid'],
    [{ CIM_GATEWAYS: GATEWAYS, DATABASE_URL: 'mysql://x' }, 'DATABASE_URL is invalid: must be a postgres:// or postgresql:// URL'],
    [{ CIM_GATEWAYS: GATEWAYS, REDIS_URL: 'http://x' }, 'REDIS_URL is invalid'],
    [{ CIM_GATEWAYS: GATEWAYS, LOG_LEVEL: 'loud' }, 'LOG_LEVEL is invalid'],
    [{ CIM_GATEWAYS: GATEWAYS, PLAYER_JWKS_URL: 'not a url' }, 'PLAYER_JWKS_URL is invalid'],
    [{ CIM_GATEWAYS: GATEWAYS, PLAYER_JWT_SECRET: 'short' }, 'PLAYER_JWT_SECRET is invalid: must be at least 32 bytes'],
    [{ NODE_ENV: 'production' }, 'CIM_GATEWAYS (or CIM_AUTHORIZATION) is required when NODE_ENV=production'],
    [{ CIM_GATEWAYS: '[{"id":"a","authorization":"s","apiKey":"k","brand":"Brand A"}]' }, 'CIM_GATEWAYS is invalid at [0].[brand]: must be 1-64 characters'],
    [{ CIM_GATEWAYS: '[{"id":"a","authorization":"s","apiKey":"k","brand":""}]' }, 'CIM_GATEWAYS is invalid at [0].[brand]'],
    [{ CIM_GATEWAYS: BRANDED, CIM_BRANDS: '[{"id":' }, 'CIM_BRANDS is not valid JSON'],
    [{ CIM_GATEWAYS: BRANDED, CIM_BRANDS: '[{"id":"gamma"}]' }, 'CIM_BRANDS is invalid at [0].[id]: no gateway in CIM_GATEWAYS has brand "gamma"'],
    [{ CIM_GATEWAYS: BRANDED, CIM_BRANDS: '[{"id":"alpha"},{"id":"alpha"}]' }, 'CIM_BRANDS is invalid at [1].[id]: brand "alpha" is listed twice'],
    [
      { CIM_GATEWAYS: BRANDED, CIM_BRANDS: '[{"id":"alpha","playerJwtSecret":"short"}]' },
      'CIM_BRANDS is invalid at [0].[playerJwtSecret]: must be at least 32 bytes',
    ],
    [
      {
        CIM_GATEWAYS: BRANDED,
        CIM_BRANDS: JSON.stringify([
          { id: 'alpha', playerJwtSecret: SECRET_32 },
          { id: 'beta', playerJwtSecret: SECRET_32 },
        ]),
      },
      'CIM_BRANDS is invalid at [1].[playerJwtSecret]: brand "beta" shares a key with brand "alpha"',
    ],
    [
      { CIM_GATEWAYS: BRANDED, PLAYER_JWT_SECRET: SECRET_32, CIM_BRANDS: JSON.stringify([{ id: 'alpha', playerJwtSecret: SECRET_32 }]) },
      'CIM_BRANDS is invalid at [0].[playerJwtSecret]: brand "alpha" shares a key with the global keys',
    ],
    [
      { CIM_GATEWAYS: BRANDED, SUPPORT_API_KEYS: 'k1', CIM_BRANDS: JSON.stringify([{ id: 'beta', supportApiKeys: ['k1'] }]) },
      'CIM_BRANDS is invalid at [0].[supportApiKeys]: brand "beta" shares a key with the global keys',
    ],
    [
      { CIM_GATEWAYS: BRANDED, CIM_BRANDS: JSON.stringify([{ id: 'alpha', playerJwtSecret: SECRET_32, playerJwksUrl: 'https://example.test/jwks' }]) },
      'CIM_BRANDS is invalid at [0]: playerJwtSecret and playerJwksUrl are both set',
    ],
  ])('stops on %j with one line naming the variable', (env, expected) => {
    const message = loadError(env);
    expect(message).toContain(expected);
    expect(message).not.toContain('\n');
  });
});

describe('withDevDefaults', () => {
  it('makes a gateway and a player secret up when none is configured, and keeps them across restarts', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cim-dev-'));
    const first = withDevDefaults(loadEnvConfig({ DATA_DIR: dataDir }));
    const second = withDevDefaults(loadEnvConfig({ DATA_DIR: dataDir }));

    expect(first.devMode).toBe(true);
    expect(first.gateways).toHaveLength(1);
    expect(first.gateways[0].authorization.length).toBeGreaterThan(20);
    expect(first.player.jwtSecret?.length).toBeGreaterThanOrEqual(32);
    expect(first.callbackAllowedHosts).toEqual(['*.smartico.ai', '127.0.0.1', 'localhost']);
    expect(second.gateways).toEqual(first.gateways);
    expect(second.player.jwtSecret).toBe(first.player.jwtSecret);
    expect((JSON.parse(readFileSync(join(dataDir, 'dev-secrets.json'), 'utf8')) as { authorization: string }).authorization).toBe(
      first.gateways[0].authorization,
    );
  });

  it('makes a support and an operator key up too (kept with the other secrets), unless keys are configured', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cim-dev-'));
    // a secrets file from before these keys existed gains them, keeping what it had
    writeFileSync(join(dataDir, 'dev-secrets.json'), JSON.stringify({ authorization: 'dev-a', apiKey: 'dev-k', playerJwtSecret: 'x'.repeat(43) }));
    const first = withDevDefaults(loadEnvConfig({ DATA_DIR: dataDir }));
    expect(first.gateways[0].authorization).toBe('dev-a');
    expect(first.supportApiKeys).toEqual([expect.stringMatching(/^dev-support-/) as string]);
    expect(first.operatorApiKeys).toEqual([expect.stringMatching(/^dev-operator-/) as string]);
    const again = withDevDefaults(loadEnvConfig({ DATA_DIR: dataDir }));
    expect([again.supportApiKeys, again.operatorApiKeys]).toEqual([first.supportApiKeys, first.operatorApiKeys]);
    expect(withDevDefaults(loadEnvConfig({ DATA_DIR: dataDir, SUPPORT_API_KEYS: 'mine' })).supportApiKeys).toEqual(['mine']);
  });

  it('leaves a configured gateway alone', () => {
    const config = loadEnvConfig({ CIM_GATEWAYS: GATEWAYS });
    expect(withDevDefaults(config)).toBe(config);
  });
});
