/**
 * Text PostgreSQL can store as given: no NUL character (text and jsonb refuse it) and no lone UTF-16
 * surrogate (it would be stored altered, or refused inside jsonb). For an object, every key and
 * string inside it. Without this, such input would fail at the database and look like an outage.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return !value.includes('\0') && !LONE_SURROGATE.test(value);
  if (value === null || typeof value !== 'object' || depth > 200) return depth <= 200;
  if (Array.isArray(value)) return value.every((item) => isStorableText(item, depth + 1));
  return Object.entries(value).every(([key, item]) => isStorableText(key, depth + 1) && isStorableText(item, depth + 1));
}
