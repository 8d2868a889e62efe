import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';

import { BRAND_ID_PATTERN, BRAND_ID_RULE } from '../config/brand-scope';

/** An optional `brand` of a request (SPEC §1's brand id), documented with what it means there. */
export function BrandField(description: string): PropertyDecorator {
  const message = `brand ${BRAND_ID_RULE}`;
  return applyDecorators(
    ApiPropertyOptional({ description, example: 'brand-a', pattern: BRAND_ID_PATTERN.source }),
    IsOptional(),
    IsString({ message }),
    Matches(BRAND_ID_PATTERN, { message }),
  );
}
