// PostgreSQL refuses NUL in text and jsonb and alters or refuses lone surrogates: such input would look like an outage
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
  if (value === null || typeof value !== 'object' || depth > 200) return depth <= 200;
  if (Array.isArray(value)) return value.every((item) => isStorableText(item, depth + 1));
  return Object.entries(value).every(([key, item]) => isStorableText(key, depth + 1) && isStorableText(item, depth + 1));
}
