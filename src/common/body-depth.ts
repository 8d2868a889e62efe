import type { FieldProblem } from './request-validation.error';

/**
 * class-transformer, class-validator and JSON.stringify all recurse and overflow the stack near 5,000
 * levels (a 10 KiB body); Smartico template fields are flat, so 64 leaves plenty of room.
 */
export const MAX_BODY_DEPTH = 64;

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

/** The first field of a body that, counting the body itself, nests more than MAX_BODY_DEPTH levels. */
export function tooDeepField(body: Record<string, unknown>): FieldProblem | undefined {
  const field = Object.keys(body).find((key) => depthExceeds(body[key], MAX_BODY_DEPTH - 1));
  return field === undefined ? undefined : { field, message: `${field} must nest at most ${MAX_BODY_DEPTH} levels`, tooLarge: true };
}
