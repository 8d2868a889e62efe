import type { FieldProblem } from './request-validation.error';

// class-transformer, class-validator and JSON.stringify recurse and overflow the stack near 5,000 levels
export const MAX_BODY_DEPTH = 64;

/** Iterative, so any depth is safe to measure. */
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

export function tooDeepField(body: Record<string, unknown>): FieldProblem | undefined {
  const field = Object.keys(body).find((key) => depthExceeds(body[key], MAX_BODY_DEPTH - 1));
  return field === undefined ? undefined : { field, message: `${field} must nest at most ${MAX_BODY_DEPTH} levels`, tooLarge: true };
}
