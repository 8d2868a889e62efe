import { PipeTransform } from '@nestjs/common';

import { MAX_BODY_DEPTH, tooDeepField } from '../common/body-depth';
import { isHttpUrl } from '../common/http-url';
import { FieldProblem, RequestValidationError } from '../common/request-validation.error';
import { isStorableText } from '../common/storable-text';

/** SPEC §2's field limits; the OpenAPI schema (gateway.dto.ts) is made from these. */
export const CUSTOM_IM_LIMITS = {
  idLength: 255,
  callbackUrlLength: 2048,
  bodyBytes: 64 * 1024,
  extensionBytes: 64 * 1024,
  depth: MAX_BODY_DEPTH,
} as const;

const { idLength, callbackUrlLength, bodyBytes, extensionBytes } = CUSTOM_IM_LIMITS;
const kib = (bytes: number): string => `${bytes / 1024} KiB`;

export interface CustomImRequest {
  ext_user_id: string;
  body: string;
  im_uid: string;
  callback_url: string;
  extension?: Record<string, unknown>;
}

/** By hand, not class-validator: the hot path. The first problem in contract order is reported; unknown fields are ignored. */
export function parseCustomImRequest(value: unknown): CustomImRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw RequestValidationError.notAnObject();
  const input = value as Record<string, unknown>;
  // checked first: the checks below recurse
  const tooDeep = tooDeepField(input);
  if (tooDeep !== undefined) refuse(tooDeep);

  const rawUserId = input.ext_user_id;
  const ext_user_id = typeof rawUserId === 'number' && Number.isSafeInteger(rawUserId) ? String(rawUserId) : rawUserId;
  const request: CustomImRequest = {
    ext_user_id: identifier('ext_user_id', ext_user_id, 'a string or an integer'),
    body: text('body', input.body),
    im_uid: identifier('im_uid', input.im_uid, 'a string'),
    callback_url: callbackUrl(input.callback_url),
  };
  const extension = input.extension;
  if (extension !== undefined && extension !== null) request.extension = extensionObject(extension);
  return request;
}

export class CustomImPipe implements PipeTransform<unknown, CustomImRequest> {
  transform(value: unknown): CustomImRequest {
    return parseCustomImRequest(value);
  }
}

function refuse(problem: FieldProblem): never {
  throw new RequestValidationError([problem]);
}

function invalid(field: string, message: string): never {
  return refuse({ field, message, tooLarge: false });
}

function tooLarge(field: string, message: string): never {
  return refuse({ field, message, tooLarge: true });
}

function required(field: string, value: unknown): void {
  if (value === undefined || value === null) invalid(field, `${field} is required`);
}

function storable(field: string, value: unknown): void {
  if (!isStorableText(value)) invalid(field, `${field} must not contain NUL characters or unpaired surrogates`);
}

function identifier(field: string, value: unknown, kind: string): string {
  required(field, value);
  if (typeof value !== 'string') return invalid(field, `${field} must be ${kind}`);
  if (value.length === 0) invalid(field, `${field} must not be empty`);
  storable(field, value);
  if (value.length > idLength) tooLarge(field, `${field} must be at most ${idLength} characters`);
  return value;
}

function text(field: string, value: unknown): string {
  required(field, value);
  if (typeof value !== 'string') return invalid(field, `${field} must be a string`);
  storable(field, value);
  // a UTF-8 byte count is at most 3 per UTF-16 unit: only long strings need counting
  if (value.length * 3 > bodyBytes && Buffer.byteLength(value, 'utf8') > bodyBytes) tooLarge(field, `${field} must be at most ${kib(bodyBytes)}`);
  return value;
}

function callbackUrl(value: unknown): string {
  const field = 'callback_url';
  required(field, value);
  if (typeof value !== 'string') return invalid(field, `${field} must be a string`);
  storable(field, value);
  if (!isHttpUrl(value)) invalid(field, `${field} must be an absolute http or https URL`);
  if (value.length > callbackUrlLength) tooLarge(field, `${field} must be at most ${callbackUrlLength} characters`);
  return value;
}

function extensionObject(value: unknown): Record<string, unknown> {
  const field = 'extension';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid(field, `${field} must be a JSON object`);
  storable(field, value);
  if (Buffer.byteLength(JSON.stringify(value), 'utf8') > extensionBytes) tooLarge(field, `${field} must serialize to at most ${kib(extensionBytes)}`);
  return value as Record<string, unknown>;
}
