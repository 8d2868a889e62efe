import { z } from 'zod';

import { BRAND_ID_PATTERN, BRAND_ID_RULE } from './brand-scope';

/** Raised when the environment is invalid; its message is one line that names the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const commaList = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );

/** Brands (SPEC §1): a player space; the same ext_user_id under two brands is two players. */
export const DEFAULT_BRAND = 'default';
const brandId = z.string().regex(BRAND_ID_PATTERN, BRAND_ID_RULE);

const gatewaySchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'id must be 1-64 characters of letters, digits, ".", "_" or "-"'),
  authorization: z.string().min(1, 'authorization must not be empty'),
  apiKey: z.string().min(1, 'apiKey must not be empty'),
  brand: brandId.default(DEFAULT_BRAND),
});

const keyList = z.array(z.string().min(1, 'a key must not be empty')).default([]);

const brandKeysSchema = z
  .object({
    id: brandId,
    playerJwtSecret: z
      .string()
      .refine((secret) => Buffer.byteLength(secret) >= 32, 'must be at least 32 bytes for HS256')
      .optional(),
    playerJwksUrl: z.url({ protocol: /^https?$/ }).optional(),
    supportApiKeys: keyList,
    operatorApiKeys: keyList,
  })
  .refine((brand) => brand.playerJwtSecret === undefined || brand.playerJwksUrl === undefined, {
    message: "playerJwtSecret and playerJwksUrl are both set: choose one way to verify this brand's tokens",
  });

export const brandsSchema = z.array(brandKeysSchema);

export const gatewaysSchema = z
  .array(gatewaySchema)
  .min(1, 'must list at least one gateway')
  .superRefine((gateways, ctx) => {
    const ids = new Set<string>();
    const secrets = new Set<string>();
    gateways.forEach((gateway, index) => {
      if (ids.has(gateway.id)) {
        ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate gateway id "${gateway.id}"` });
      }
      if (secrets.has(gateway.authorization)) {
        ctx.addIssue({ code: 'custom', path: [index, 'authorization'], message: 'two gateways share one authorization value' });
      }
      ids.add(gateway.id);
      secrets.add(gateway.authorization);
    });
  });

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** In flight to one callback receiver; tests that reason about it import it. */
export const DEFAULT_CALLBACK_CONCURRENCY = 50;

const postgresUrl = optionalString.pipe(
  z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
);

export const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: postgresUrl,
  FANOUT_DATABASE_URL: postgresUrl,
  DATA_DIR: z.string().min(1).default('./.data'),
  CIM_GATEWAYS: optionalString,
  CIM_AUTHORIZATION: optionalString,
  CIM_BRANDS: optionalString,
  SMARTICO_API_KEY: optionalString,
  CALLBACK_ALLOWED_HOSTS: commaList,
  PLAYER_JWT_SECRET: optionalString,
  PLAYER_JWKS_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  PLAYER_JWT_ISSUER: optionalString,
  PLAYER_JWT_AUDIENCE: optionalString,
  SUPPORT_API_KEYS: commaList,
  OPERATOR_API_KEYS: commaList,
  // unset: the default list; empty: no category is exempt
  SUPPRESSION_EXEMPT_CATEGORIES: z.string().optional(),
  // 0 keeps every message
  MESSAGE_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(90),
  OPERATOR_ACTION_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  OPERATOR_ACTION_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  REDIS_URL: optionalString.pipe(
    z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
  ),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  PUBLIC_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  CIM_LINK_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  CALLBACK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  CALLBACK_RETRY_BASE_MS: z.coerce.number().int().min(10).default(1_000),
  CALLBACK_RETRY_MAX_MS: z.coerce.number().int().min(10).default(600_000),
  CALLBACK_RETRY_WINDOW_MS: z.coerce.number().int().min(100).default(86_400_000),
  CALLBACK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(DEFAULT_CALLBACK_CONCURRENCY),
  CALLBACK_CONNECTIONS: z.coerce.number().int().min(1).max(256).default(16),
  CALLBACK_LEASE_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(30_000),
  CALLBACK_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  PLAYER_RATE_LIMIT_PER_MIN: z.coerce.number().int().min(1).default(300),
  SUPPORT_RATE_LIMIT_PER_MIN: z.coerce.number().int().min(1).default(1200),
  GATEWAY_BAD_AUTH_PER_MIN: z.coerce.number().int().min(1).default(20),
  EXPIRY_SWEEP_MS: z.coerce.number().int().min(100).max(3_600_000).default(5_000),
  FANOUT_HEARTBEAT_MS: z.coerce.number().int().min(50).max(60_000).default(2_000),
  LEADER_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(5_000),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  // unset: no cap
  POPUP_MAX_PER_HOUR: optionalString.pipe(z.coerce.number<string | undefined>().int().min(0).max(10_000).optional()),
  POPUP_MAX_AGE_S: z.coerce.number().int().min(0).max(31_536_000).default(3_600),
  // serves /demo and its token route outside dev mode (never in production: it mints tokens for anyone)
  DEMO: optionalString.pipe(z.enum(['true', 'false', '1', '0'], 'must be true or false').optional()),
});

export type RawEnv = z.infer<typeof envSchema>;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type GatewayConfig = z.infer<typeof gatewaySchema>;
export type BrandKeys = z.infer<typeof brandKeysSchema>;

/** Validates the environment and returns it typed; throws ConfigError naming the first bad variable. */
export function validateEnv(env: NodeJS.ProcessEnv): RawEnv {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`${String(issue.path[0])} is invalid: ${issue.message}`);
  }
  return result.data;
}

/** Parses CIM_GATEWAYS, or the CIM_AUTHORIZATION + SMARTICO_API_KEY shorthand; [] when neither is set. */
export function parseGateways(env: RawEnv): GatewayConfig[] {
  if (env.CIM_GATEWAYS !== undefined) {
    if (env.CIM_AUTHORIZATION !== undefined) {
      throw new ConfigError('CIM_GATEWAYS and CIM_AUTHORIZATION are both set: configure gateways one way only');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.CIM_GATEWAYS);
    } catch {
      throw new ConfigError('CIM_GATEWAYS is not valid JSON');
    }
    return parseJsonList('CIM_GATEWAYS', gatewaysSchema, parsed);
  }
  if (env.CIM_AUTHORIZATION !== undefined) {
    if (env.SMARTICO_API_KEY === undefined) {
      throw new ConfigError('SMARTICO_API_KEY is required when CIM_AUTHORIZATION is set');
    }
    return [{ id: 'default', authorization: env.CIM_AUTHORIZATION, apiKey: env.SMARTICO_API_KEY, brand: DEFAULT_BRAND }];
  }
  if (env.SMARTICO_API_KEY !== undefined) {
    throw new ConfigError('CIM_AUTHORIZATION is required when SMARTICO_API_KEY is set');
  }
  return [];
}

function parseJsonList<T>(variable: string, schema: z.ZodType<T>, parsed: unknown): T {
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length > 0 ? ` at [${issue.path.join('].[')}]` : '';
    throw new ConfigError(`${variable} is invalid${where}: ${issue.message}`);
  }
  return result.data;
}

export interface GlobalKeys {
  playerJwtSecret?: string;
  playerJwksUrl?: string;
  supportApiKeys: string[];
  operatorApiKeys: string[];
}

/** Parses CIM_BRANDS against the gateways' brands: every entry names a brand a gateway has, and no key serves two brands. */
export function parseBrandKeys(json: string | undefined, gateways: GatewayConfig[], global: GlobalKeys): BrandKeys[] {
  if (json === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new ConfigError('CIM_BRANDS is not valid JSON');
  }
  const brands = parseJsonList('CIM_BRANDS', brandsSchema, parsed);
  const gatewayBrands = new Set(gateways.map((gateway) => gateway.brand));
  // support and operator keys share one space: a key that is brand A's support key cannot be brand B's operator key
  const spaceOf: Record<string, string> = { playerJwtSecret: 'secret', playerJwksUrl: 'jwks', supportApiKeys: 'api', operatorApiKeys: 'api' };
  const owners = new Map<string, string>();
  const claim = (index: number, field: string, key: string | undefined, owner: string): void => {
    if (key === undefined) return;
    const slot = `${spaceOf[field]}\u0000${key}`;
    const taken = owners.get(slot);
    if (taken !== undefined && taken !== owner) {
      const other = taken === '' ? 'the global keys' : `brand "${taken}"`;
      throw new ConfigError(`CIM_BRANDS is invalid at [${index}].[${field}]: brand "${owner}" shares a key with ${other}`);
    }
    owners.set(slot, owner);
  };
  claim(-1, 'playerJwtSecret', global.playerJwtSecret, '');
  claim(-1, 'playerJwksUrl', global.playerJwksUrl, '');
  for (const key of global.supportApiKeys) claim(-1, 'supportApiKeys', key, '');
  for (const key of global.operatorApiKeys) claim(-1, 'operatorApiKeys', key, '');
  brands.forEach((brand, index) => {
    if (!gatewayBrands.has(brand.id)) {
      throw new ConfigError(`CIM_BRANDS is invalid at [${index}].[id]: no gateway in CIM_GATEWAYS has brand "${brand.id}"`);
    }
    if (brands.findIndex((other) => other.id === brand.id) !== index) {
      throw new ConfigError(`CIM_BRANDS is invalid at [${index}].[id]: brand "${brand.id}" is listed twice`);
    }
    claim(index, 'playerJwtSecret', brand.playerJwtSecret, brand.id);
    claim(index, 'playerJwksUrl', brand.playerJwksUrl, brand.id);
    for (const key of brand.supportApiKeys) claim(index, 'supportApiKeys', key, brand.id);
    for (const key of brand.operatorApiKeys) claim(index, 'operatorApiKeys', key, brand.id);
  });
  return brands;
}
