export const GATEWAY_PATH = '/gateway/custom-im';

/** SPEC §2: the whole request; field limits are the parser's (CUSTOM_IM_LIMITS) */
export const MAX_REQUEST_BYTES = 256 * 1024;
