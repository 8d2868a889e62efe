import { ArgumentMetadata, Injectable, ValidationPipe } from '@nestjs/common';
import { RequestValidationError } from './request-validation.error';

/**
 * The global ValidationPipe (whitelist + transform), plus one rule it lacks: a body validated
 * against a DTO class must be a JSON object, not an array, string or number.
 */
@Injectable()
export class AppValidationPipe extends ValidationPipe {
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
    return super.transform(value, metadata);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
