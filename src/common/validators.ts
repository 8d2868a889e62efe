import { ValidateBy, ValidationOptions, buildMessage } from 'class-validator';

/** UTF-8 byte length of a string is at most `max`. */
export function MaxBytes(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxBytes',
      constraints: [max],
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || Buffer.byteLength(value, 'utf8') <= max,
        defaultMessage: buildMessage((prefix) => `${prefix}$property must be at most $constraint1 bytes`, options),
      },
    },
    options,
  );
}

/** The value serialized as JSON is at most `max` bytes. */
export function MaxJsonBytes(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxJsonBytes',
      constraints: [max],
      validator: {
        validate: (value: unknown) => value === undefined || value === null || Buffer.byteLength(JSON.stringify(value), 'utf8') <= max,
        defaultMessage: buildMessage((prefix) => `${prefix}$property must serialize to at most $constraint1 bytes`, options),
      },
    },
    options,
  );
}

/** An absolute http(s) URL that the WHATWG parser accepts. */
export function IsHttpUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isHttpUrl',
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          try {
            const url = new URL(value);
            return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
          } catch {
            return false;
          }
        },
        defaultMessage: buildMessage((prefix) => `${prefix}$property must be an absolute http or https URL`, options),
      },
    },
    options,
  );
}
