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

/**
 * Text PostgreSQL can store as given: no NUL character (text and jsonb refuse it) and no lone UTF-16
 * surrogate (it would be stored altered, or refused inside jsonb). For an object, every key and
 * string inside it. Without this, such input would fail at the database and look like an outage.
 */
const NUL_OR_LONE_SURROGATE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return !NUL_OR_LONE_SURROGATE.test(value);
  if (value === null || typeof value !== 'object' || depth > 200) return depth <= 200;
  if (Array.isArray(value)) return value.every((item) => isStorableText(item, depth + 1));
  return Object.entries(value).every(([key, item]) => isStorableText(key, depth + 1) && isStorableText(item, depth + 1));
}

export function IsStorableText(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStorableText',
      validator: {
        validate: (value: unknown) => value === undefined || value === null || isStorableText(value),
        defaultMessage: buildMessage((prefix) => `${prefix}$property must not contain NUL characters or unpaired surrogates`, options),
      },
    },
    options,
  );
}
