/** Smartico's error_code values for the Custom IM gateway (SPEC §2). */
export enum GatewayErrorCode {
  Ok = 0,
  Unauthorized = 1,
  InvalidRequest = 2,
  PayloadTooLarge = 3,
  Conflict = 4,
  Unavailable = 5,
  RateLimited = 6,
}

export const GATEWAY_ERROR_DESCRIPTIONS: Record<Exclude<GatewayErrorCode, GatewayErrorCode.Ok>, string> = {
  [GatewayErrorCode.Unauthorized]: 'unauthorized: missing or unknown Authorization',
  [GatewayErrorCode.InvalidRequest]: 'invalid request: unparsable JSON, wrong type, missing or invalid field',
  [GatewayErrorCode.PayloadTooLarge]: 'payload too large: request over 256 KiB, or a field over its limit',
  [GatewayErrorCode.Conflict]: 'conflict: this im_uid was already accepted with different content',
  [GatewayErrorCode.Unavailable]: 'temporarily unavailable: nothing stored, retry later',
  [GatewayErrorCode.RateLimited]: 'rate limited: too many bad Authorization attempts from this address',
};

/** A refusal on the gateway route; GatewayErrorMapper answers it as HTTP 200 `{error_code, error_message}`. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';

  constructor(
    readonly code: Exclude<GatewayErrorCode, GatewayErrorCode.Ok>,
    message: string,
  ) {
    super(message);
  }
}

export interface GatewayAccepted {
  error_code: GatewayErrorCode.Ok;
  ext_message_id: string;
}

export interface GatewayRefused {
  error_code: Exclude<GatewayErrorCode, GatewayErrorCode.Ok>;
  error_message: string;
}
