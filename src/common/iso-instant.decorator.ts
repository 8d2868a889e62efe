import { ValidateBy, ValidationOptions } from 'class-validator';

import { parseIsoInstant } from './iso-8601';

/** An ISO 8601 date or date-time (a time without a zone is UTC). */
export function IsIsoInstant(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isIsoInstant',
      validator: { validate: (value: unknown) => typeof value === 'string' && parseIsoInstant(value) !== null },
    },
    options,
  );
}
