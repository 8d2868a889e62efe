import { Param, ParseUUIDPipe } from '@nestjs/common';

import { RequestValidationError } from './request-validation.error';

/** The `:id` route parameter as a message id (uuid); anything else is a 400 naming it. */
export const MessageIdParam = (): ParameterDecorator =>
  Param(
    'id',
    new ParseUUIDPipe({ exceptionFactory: () => new RequestValidationError([{ field: 'id', message: 'id must be a message id (uuid)', tooLarge: false }]) }),
  );
