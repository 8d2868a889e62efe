import { ArgumentMetadata, Injectable, ValidationPipe } from '@nestjs/common';

import { tooDeepField } from './body-depth';
import { RequestValidationError } from './request-validation.error';

/** The global ValidationPipe (whitelist + transform), plus what it lacks: a DTO body must be a JSON object of bounded depth. */
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
    if (metadata.type === 'body' && metadata.metatype !== undefined && this.toValidate(metadata)) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw RequestValidationError.notAnObject();
      const tooDeep = tooDeepField(value as Record<string, unknown>);
      if (tooDeep !== undefined) throw new RequestValidationError([tooDeep]);
    }
    return super.transform(value, metadata);
  }
}
