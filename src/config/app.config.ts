import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { BrandKeys, ConfigError, DEFAULT_BRAND, GatewayConfig, LogLevel, parseBrandKeys, parseGateways, validateEnv } from './env.validation';

export const APP_CONFIG = Symbol('APP_CONFIG');

export interface PlayerAuthConfig {
  jwtSecret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

/** The validated configuration every module reads; `databaseUrl` is known once the database is up. */
export interface CallbackConfig {
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  retryWindowMs: number;
  /** callbacks in flight per instance */
  concurrency: number;
  /** connections kept to one callback host; requests beyond them wait for one */
  connectionsPerHost: number;
  pollMs: number;
  /** how long a claimed callback stays invisible to other senders; a crashed sender's work returns after it */
  leaseMs: number;
}

export interface AppConfig {
  port: number;
  host: string;
  databaseUrl: string;
  /** FANOUT_DATABASE_URL: where the PostgreSQL fan-out LISTENs, when not through DATABASE_URL (a transaction pooler cannot carry LISTEN) */
  fanOutDatabaseUrl?: string;
  dataDir: string;
  gateways: GatewayConfig[];
  /** CIM_BRANDS: the brands with keys of their own (a brand not listed uses the global keys) */
  brands?: BrandKeys[];
  devMode: boolean;
  callbackAllowedHosts: string[];
  player: PlayerAuthConfig;
  supportApiKeys: string[];
  /** bearer keys of the operator API (SPEC v2 §7), every brand */
  operatorApiKeys: string[];
  /** SUPPRESSION_EXEMPT_CATEGORIES: categories a responsible-gambling suppression never hides */
  suppressionExemptCategories: string[];
  /** MESSAGE_RETENTION_DAYS (0: keep everything), and how often the leader looks for what is past it */
  retention: { days: number; sweepMs: number };
  /** OPERATOR_ACTION_URL and OPERATOR_ACTION_SECRET: where server-executed button actions go (SPEC v2 §7); unset: none */
  operatorActions?: OperatorActionsConfig;
  redisUrl?: string;
  logLevel: LogLevel;
  dbPoolSize: number;
  /** where players' browsers reach us; prefixes click-tracking links (relative when unset) */
  publicUrl?: string;
  /** HMAC key of click-tracking links */
  linkSecret: string;
  callbacks: CallbackConfig;
  expirySweepMs: number;
  /** FANOUT_HEARTBEAT_MS: how often an instance checks it hears its fan-out link (down after three missed) */
  fanOutHeartbeatMs: number;
  /** how often a follower tries the leader lock and the leader checks its lock connection */
  leaderPollMs: number;
  rateLimits: RateLimitConfig;
  popups: PopupConfig;
  /** DEMO=true: the demo page and its player-token route, also outside dev mode */
  demo?: boolean;
}

export interface RateLimitConfig {
  /** player REST requests per minute, per player */
  playerPerMinute: number;
  /** support API requests per minute, per key */
  supportPerMinute: number;
  /** bad gateway Authorization attempts per minute, per address, before error_code 6 */
  gatewayBadAuthPerMinute: number;
}

/** Popup arbitration (SPEC v2 §3). */
export interface PopupConfig {
  /** POPUP_MAX_PER_HOUR: popups per player per rolling hour, `high` exempt; undefined: no cap */
  maxPerHour?: number;
  /** POPUP_MAX_AGE_S: a message older than this when it reaches the player is not a popup */
  maxAgeSeconds: number;
}

export type EnvConfig = Omit<AppConfig, 'databaseUrl'> & { databaseUrl?: string };

export const DEFAULT_CALLBACK_ALLOWED_HOSTS = ['*.smartico.ai'];
const DEV_CALLBACK_ALLOWED_HOSTS = ['*.smartico.ai', '127.0.0.1', 'localhost'];

/** Reads and validates the environment once. Dev mode (no gateway, not production) is resolved by `withDevDefaults`. */
export function loadEnvConfig(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const raw = validateEnv(env);
  const gateways = parseGateways(raw);
  const devMode = gateways.length === 0;
  if (devMode && env.NODE_ENV === 'production') {
    throw new ConfigError('CIM_GATEWAYS (or CIM_AUTHORIZATION) is required when NODE_ENV=production');
  }
  if (raw.PLAYER_JWT_SECRET !== undefined && raw.PLAYER_JWKS_URL !== undefined) {
    throw new ConfigError('PLAYER_JWT_SECRET and PLAYER_JWKS_URL are both set: choose one way to verify player tokens');
  }
  if ((raw.OPERATOR_ACTION_URL === undefined) !== (raw.OPERATOR_ACTION_SECRET === undefined)) {
    throw new ConfigError(`${raw.OPERATOR_ACTION_URL === undefined ? 'OPERATOR_ACTION_URL' : 'OPERATOR_ACTION_SECRET'} is required: the two go together`);
  }
  if (raw.CALLBACK_LEASE_MS <= 2 * raw.CALLBACK_TIMEOUT_MS) {
    throw new ConfigError('CALLBACK_LEASE_MS is invalid: must be more than twice CALLBACK_TIMEOUT_MS');
  }
  if (raw.PLAYER_JWT_SECRET !== undefined && Buffer.byteLength(raw.PLAYER_JWT_SECRET) < 32) {
    throw new ConfigError('PLAYER_JWT_SECRET is invalid: must be at least 32 bytes for HS256');
  }
  const brands = parseBrandKeys(raw.CIM_BRANDS, gateways, {
    playerJwtSecret: raw.PLAYER_JWT_SECRET,
    playerJwksUrl: raw.PLAYER_JWKS_URL,
    supportApiKeys: raw.SUPPORT_API_KEYS,
    operatorApiKeys: raw.OPERATOR_API_KEYS,
  });
  return {
    port: raw.PORT,
    host: raw.HOST,
    databaseUrl: raw.DATABASE_URL,
    fanOutDatabaseUrl: raw.FANOUT_DATABASE_URL,
    dataDir: resolve(raw.DATA_DIR),
    gateways,
    brands,
    devMode,
    callbackAllowedHosts:
      raw.CALLBACK_ALLOWED_HOSTS.length > 0 ? raw.CALLBACK_ALLOWED_HOSTS : devMode ? DEV_CALLBACK_ALLOWED_HOSTS : DEFAULT_CALLBACK_ALLOWED_HOSTS,
    player: {
      jwtSecret: raw.PLAYER_JWT_SECRET,
      jwksUrl: raw.PLAYER_JWKS_URL,
      issuer: raw.PLAYER_JWT_ISSUER,
      audience: raw.PLAYER_JWT_AUDIENCE,
    },
    supportApiKeys: raw.SUPPORT_API_KEYS,
    operatorApiKeys: raw.OPERATOR_API_KEYS,
    suppressionExemptCategories: exemptCategories(raw.SUPPRESSION_EXEMPT_CATEGORIES),
    retention: { days: raw.MESSAGE_RETENTION_DAYS, sweepMs: RETENTION_SWEEP_MS },
    ...(raw.OPERATOR_ACTION_URL === undefined || raw.OPERATOR_ACTION_SECRET === undefined
      ? {}
      : { operatorActions: { url: raw.OPERATOR_ACTION_URL, secret: raw.OPERATOR_ACTION_SECRET, waitMs: OPERATOR_ACTION_WAIT_MS } }),
    redisUrl: raw.REDIS_URL,
    logLevel: raw.LOG_LEVEL,
    dbPoolSize: raw.DB_POOL_SIZE,
    publicUrl: raw.PUBLIC_URL?.replace(/\/+$/, ''),
    linkSecret: raw.CIM_LINK_SECRET ?? deriveLinkSecret(gateways),
    callbacks: {
      timeoutMs: raw.CALLBACK_TIMEOUT_MS,
      retryBaseMs: raw.CALLBACK_RETRY_BASE_MS,
      retryMaxMs: raw.CALLBACK_RETRY_MAX_MS,
      retryWindowMs: raw.CALLBACK_RETRY_WINDOW_MS,
      concurrency: raw.CALLBACK_CONCURRENCY,
      connectionsPerHost: raw.CALLBACK_CONNECTIONS,
      pollMs: raw.CALLBACK_POLL_MS,
      leaseMs: raw.CALLBACK_LEASE_MS,
    },
    expirySweepMs: raw.EXPIRY_SWEEP_MS,
    fanOutHeartbeatMs: raw.FANOUT_HEARTBEAT_MS,
    leaderPollMs: raw.LEADER_POLL_MS,
    rateLimits: {
      playerPerMinute: raw.PLAYER_RATE_LIMIT_PER_MIN,
      supportPerMinute: raw.SUPPORT_RATE_LIMIT_PER_MIN,
      gatewayBadAuthPerMinute: raw.GATEWAY_BAD_AUTH_PER_MIN,
    },
    popups: { maxPerHour: raw.POPUP_MAX_PER_HOUR, maxAgeSeconds: raw.POPUP_MAX_AGE_S },
    demo: raw.DEMO === 'true' || raw.DEMO === '1',
  };
}

/** Every brand a gateway serves, in the order the gateways list them. */
export function brandIdsOf(config: Pick<AppConfig, 'gateways'>): string[] {
  return [...new Set(config.gateways.map((gateway) => gateway.brand))];
}

// without CIM_LINK_SECRET, links are keyed by the gateway secrets every instance shares (valid across instances and restarts)
export function deriveLinkSecret(gateways: GatewayConfig[]): string {
  const material = gateways
    .map((gateway) => `${gateway.id}\u0000${gateway.authorization}`)
    .sort()
    .join('\u0001');
  return createHmac('sha256', 'cim-inbox click links').update(material).digest('base64url');
}

interface DevSecrets {
  authorization: string;
  apiKey: string;
  playerJwtSecret: string;
  // added later: a secrets file written by an earlier release gains them on the next start
  supportApiKey?: string;
  operatorApiKey?: string;
}

/** Dev mode's made-up secrets are kept in DATA_DIR, so a restart keeps the same curl line and tokens. */
export function withDevDefaults(config: EnvConfig): EnvConfig {
  if (!config.devMode) return config;
  const file = join(config.dataDir, 'dev-secrets.json');
  let secrets: DevSecrets;
  try {
    secrets = JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  } catch {
    secrets = {
      authorization: `dev-${randomBytes(18).toString('base64url')}`,
      apiKey: `dev-${randomBytes(12).toString('base64url')}`,
      playerJwtSecret: randomBytes(32).toString('base64url'),
    };
  }
  if (secrets.supportApiKey === undefined || secrets.operatorApiKey === undefined) {
    secrets = {
      ...secrets,
      supportApiKey: secrets.supportApiKey ?? `dev-support-${randomBytes(12).toString('base64url')}`,
      operatorApiKey: secrets.operatorApiKey ?? `dev-operator-${randomBytes(12).toString('base64url')}`,
    };
    mkdirSync(config.dataDir, { recursive: true, mode: 0o755 });
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  const hasPlayerAuth = config.player.jwtSecret !== undefined || config.player.jwksUrl !== undefined;
  const gateways = [{ id: 'default', authorization: secrets.authorization, apiKey: secrets.apiKey, brand: DEFAULT_BRAND }];
  return {
    ...config,
    gateways,
    linkSecret: config.linkSecret === deriveLinkSecret([]) ? deriveLinkSecret(gateways) : config.linkSecret,
    player: hasPlayerAuth ? config.player : { ...config.player, jwtSecret: secrets.playerJwtSecret },
    supportApiKeys: config.supportApiKeys.length > 0 ? config.supportApiKeys : [(secrets as Required<DevSecrets>).supportApiKey],
    operatorApiKeys: config.operatorApiKeys.length > 0 ? config.operatorApiKeys : [(secrets as Required<DevSecrets>).operatorApiKey],
  };
}

export const DEFAULT_SUPPRESSION_EXEMPT_CATEGORIES = ['service', 'responsible_gambling'];

function exemptCategories(raw: string | undefined): string[] {
  if (raw === undefined) return DEFAULT_SUPPRESSION_EXEMPT_CATEGORIES;
  return raw
    .split(',')
    .map((category) => category.trim())
    .filter((category) => category.length > 0);
}

/** How long a player's button press waits for the operator (retries included) before it answers `pending` (SPEC v2 §7). */
export const OPERATOR_ACTION_WAIT_MS = 10_000;

export interface OperatorActionsConfig {
  url: string;
  /** the HMAC-SHA256 key of X-Cim-Signature */
  secret: string;
  /** how long a press waits for the result before answering pending */
  waitMs: number;
}

/** How often the leader deletes what is past MESSAGE_RETENTION_DAYS. */
export const RETENTION_SWEEP_MS = 60_000;
