export const GATEWAY_PATH = '/gateway/custom-im';

/** SPEC §2 limits */
export const MAX_REQUEST_BYTES = 256 * 1024;
export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_EXTENSION_BYTES = 64 * 1024;
export const MAX_ID_LENGTH = 255;
export const MAX_CALLBACK_URL_LENGTH = 2048;
