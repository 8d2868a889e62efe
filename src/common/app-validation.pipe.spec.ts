import { IsObject, IsOptional, IsString } from 'class-validator';

import { AppValidationPipe, depthExceeds, MAX_BODY_DEPTH } from './app-validation.pipe';
import { RequestValidationError } from './request-validation.error';

class Dto {
  @IsString()
  name!: string;

  @IsOptional()
  @IsObject()
  extension?: Record<string, unknown>;
}

const nested = (levels: number): unknown => JSON.parse(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`);

describe('AppValidationPipe', () => {
  const sut = new AppValidationPipe();
  const metadata = { type: 'body' as const, metatype: Dto };

  it(`accepts a body nesting exactly ${MAX_BODY_DEPTH} levels`, async () => {
    await expect(sut.transform({ name: 'n', extension: nested(MAX_BODY_DEPTH - 1) }, metadata)).resolves.toBeInstanceOf(Dto);
  });

  it.each([MAX_BODY_DEPTH, 5_000, 60_000])(
    'refuses a field nesting %i levels deeper as too large, naming it, without overflowing the stack',
    async (levels) => {
      const error = await sut.transform({ name: 'n', extension: nested(levels) }, metadata).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RequestValidationError);
      expect((error as RequestValidationError).problems).toEqual([
        { field: 'extension', message: `extension must nest at most ${MAX_BODY_DEPTH} levels`, tooLarge: true },
      ]);
    },
  );

  it('measures depth of arrays and objects alike', () => {
    expect(depthExceeds(JSON.parse('[[[1]]]'), 3)).toBe(false);
    expect(depthExceeds(JSON.parse('[[[1]]]'), 2)).toBe(true);
    expect(depthExceeds('scalar', 0)).toBe(false);
  });
});

describe('AppValidationPipe keeps free-form objects as sent', () => {
  const sut = new AppValidationPipe();
  const metadata = { type: 'body' as const, metatype: Dto };

  it('keeps keys named constructor, prototype and like Object.prototype methods, at any depth', async () => {
    const extension = JSON.parse(
      '{"constructor":"c","prototype":1,"valueOf":null,"toString":"t","hasOwnProperty":[1],"nested":{"constructor":{"x":1},"isPrototypeOf":"i","__defineGetter__":2},"list":[{"toLocaleString":"l"}]}',
    ) as Record<string, unknown>;
    const sent = structuredClone(extension);
    const result = (await sut.transform({ name: 'n', extension }, metadata)) as Dto;
    expect(result).toBeInstanceOf(Dto);
    expect(JSON.parse(JSON.stringify(result.extension))).toEqual(sent);
    expect(Object.keys(result.extension!)).toEqual(Object.keys(sent));
  });

  it('validates what it hands on: a field that is not an object is still refused', async () => {
    await expect(sut.transform({ name: 'n', extension: 'text' }, metadata)).rejects.toBeInstanceOf(RequestValidationError);
    await expect(sut.transform({ name: 5, extension: { valueOf: 1 } }, metadata)).rejects.toBeInstanceOf(RequestValidationError);
  });
});
