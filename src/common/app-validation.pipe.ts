import { ArgumentMetadata, Injectable, ValidationPipe } from '@nestjs/common';
import type { ValidationError, ValidatorOptions } from 'class-validator';

import { RequestValidationError } from './request-validation.error';

/**
 * How deeply a request body may nest. class-transformer, class-validator and JSON.stringify all
 * recurse, and overflow the stack near 5,000 levels (a 10 KiB body): deeper input would surface as
 * an unexpected error. Smartico template fields are flat, so 64 levels leaves plenty of room.
 */
export const MAX_BODY_DEPTH = 64;

/**
 * The global ValidationPipe (whitelist + transform), plus two rules it lacks: a body validated
 * against a DTO class must be a JSON object, not an array, string or number, and may nest at most
 * MAX_BODY_DEPTH levels. And one repair: free-form object fields (a Smartico `extension`) are
 * validated and handed on exactly as sent. Nest deletes `constructor` and `prototype` keys at any
 * depth and class-transformer skips keys named like Object.prototype methods (`valueOf`,
 * `toString`, …), so an accepted message would silently lose template fields with those names.
 */
@Injectable()
export class AppValidationPipe extends ValidationPipe {
  // handed from transform() to validate(): ValidationPipe calls validate() synchronously after
  // building the instance, before its first await, so no other request can come in between
  private freeFormFields?: { metatype: unknown; values: Map<string, unknown> };

  constructor() {
    super({
      whitelist: true,
      transform: true,
      forbidUnknownValues: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => RequestValidationError.fromValidationErrors(errors),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const validatesAClass = metadata.metatype !== undefined && this.toValidate(metadata);
    if (metadata.type === 'body' && validatesAClass && !isPlainObject(value)) {
      throw RequestValidationError.notAnObject();
    }
    if (metadata.type === 'body' && validatesAClass) {
      const tooDeep = Object.keys(value as Record<string, unknown>).find((key) => depthExceeds((value as Record<string, unknown>)[key], MAX_BODY_DEPTH - 1));
      if (tooDeep !== undefined) {
        throw new RequestValidationError([{ field: tooDeep, message: `${tooDeep} must nest at most ${MAX_BODY_DEPTH} levels`, tooLarge: true }]);
      }
      const values = new Map<string, unknown>();
      for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
        if (typeof field === 'object' && field !== null) values.set(key, structuredClone(field));
      }
      this.freeFormFields = values.size > 0 ? { metatype: metadata.metatype, values } : undefined;
    }
    try {
      return await super.transform(value, metadata);
    } finally {
      this.freeFormFields = undefined;
    }
  }

  protected override validate(object: object, validatorOptions?: ValidatorOptions): Promise<ValidationError[]> | ValidationError[] {
    const pending = this.freeFormFields;
    this.freeFormFields = undefined;
    if (pending !== undefined && object instanceof (pending.metatype as new () => object)) {
      const entity = object as Record<string, unknown>;
      for (const [key, original] of pending.values) {
        if (typeof entity[key] === 'object' && entity[key] !== null) entity[key] = original;
      }
    }
    return super.validate(object, validatorOptions);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `value` nests more than `limit` levels of arrays or objects; iterative, so any depth is safe to measure. */
export function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}
