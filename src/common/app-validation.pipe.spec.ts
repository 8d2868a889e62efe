import { IsOptional, IsString } from 'class-validator';

import { AppValidationPipe } from './app-validation.pipe';
import { depthExceeds, MAX_BODY_DEPTH } from './body-depth';
import { RequestValidationError } from './request-validation.error';

class NameDto {
  @IsString()
  name!: string;

  @IsOptional()
  @IsString()
  note?: string;
}

const nested = (levels: number): unknown => JSON.parse(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`);

describe('AppValidationPipe', () => {
  const sut = new AppValidationPipe();
  const metadata = { type: 'body' as const, metatype: NameDto };

  const refusal = (value: unknown): Promise<unknown> => sut.transform(value, metadata).catch((caught: unknown) => caught);

  it('hands on a valid body as the DTO, without unknown fields', async () => {
    await expect(sut.transform({ name: 'n', other: 1 }, metadata)).resolves.toEqual(Object.assign(new NameDto(), { name: 'n' }));
  });

  it.each([
    ['an array', [{ name: 'n' }]],
    ['a string', 'text'],
    ['null', null],
  ])('refuses %s as a body', async (_name, value) => {
    expect(((await refusal(value)) as RequestValidationError).problems).toEqual([
      { field: '', message: 'request body must be a JSON object', tooLarge: false },
    ]);
  });

  it(`accepts an unknown field nesting ${MAX_BODY_DEPTH - 1} levels (the body is one more)`, async () => {
    await expect(sut.transform({ name: 'n', other: nested(MAX_BODY_DEPTH - 1) }, metadata)).resolves.toBeInstanceOf(NameDto);
  });

  it.each([MAX_BODY_DEPTH, 5_000, 60_000])('refuses a field nesting %i levels as too large, naming it, without overflowing the stack', async (levels) => {
    const error = await refusal({ name: 'n', other: nested(levels) });
    expect(error).toBeInstanceOf(RequestValidationError);
    expect((error as RequestValidationError).problems).toEqual([
      { field: 'other', message: `other must nest at most ${MAX_BODY_DEPTH} levels`, tooLarge: true },
    ]);
  });

  it('measures depth of arrays and objects alike', () => {
    expect(depthExceeds(JSON.parse('[[[1]]]'), 3)).toBe(false);
    expect(depthExceeds(JSON.parse('[[[1]]]'), 2)).toBe(true);
    expect(depthExceeds('scalar', 0)).toBe(false);
  });
});
