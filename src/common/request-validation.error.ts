import { ValidationError } from 'class-validator';

export interface FieldProblem {
  field: string;
  message: string;
  /** the value is over a size limit (Smartico error_code 3) rather than malformed (2) */
  tooLarge: boolean;
}

/** The one class-validator constraint in use that means "over its limit" rather than "malformed". */
const SIZE_CONSTRAINT = 'maxLength';

const FIRST_SAID = ['isDefined', 'isString', 'isObject', 'isInt', 'isBoolean'];

function rank(constraint: string): number {
  const index = FIRST_SAID.indexOf(constraint);
  if (index >= 0) return index;
  return constraint === SIZE_CONSTRAINT ? 100 : 50;
}

export class RequestValidationError extends Error {
  override readonly name = 'RequestValidationError';

  constructor(readonly problems: FieldProblem[]) {
    super(problems.map((problem) => problem.message).join('; '));
  }

  static fromValidationErrors(errors: ValidationError[]): RequestValidationError {
    const problems: FieldProblem[] = [];
    const walk = (list: ValidationError[], prefix: string): void => {
      for (const error of list) {
        const field = prefix + error.property;
        const constraints = Object.entries(error.constraints ?? {});
        // a missing or mistyped value fails every rule of its field: say "required", then the type, then the size
        const [name, message] = [...constraints].sort(([a], [b]) => rank(a) - rank(b))[0] ?? [];
        if (name !== undefined && message !== undefined) {
          problems.push({ field, message, tooLarge: name === SIZE_CONSTRAINT });
        }
        walk(error.children ?? [], `${field}.`);
      }
    };
    walk(errors, '');
    if (problems.length === 0) problems.push({ field: '', message: 'request is invalid', tooLarge: false });
    return new RequestValidationError(problems);
  }

  static notAnObject(): RequestValidationError {
    return new RequestValidationError([{ field: '', message: 'request body must be a JSON object', tooLarge: false }]);
  }
}
