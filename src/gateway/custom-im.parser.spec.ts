import { MAX_BODY_DEPTH } from '../common/body-depth';
import { RequestValidationError } from '../common/request-validation.error';
import { parseCustomImRequest } from './custom-im.parser';

const valid = { ext_user_id: 'hhu234556', body: 'Best offer ever', im_uid: 'ksjhdf3428', callback_url: 'https://api.smartico.ai/cb?x=1' };

/** [error_code, message] of the first problem, as the gateway answers it. */
function refusal(input: unknown): [number, string] {
  try {
    parseCustomImRequest(input);
  } catch (error) {
    if (!(error instanceof RequestValidationError)) throw error;
    const [problem] = error.problems;
    return [problem.tooLarge ? 3 : 2, problem.message];
  }
  throw new Error('accepted');
}

const nested = (levels: number): unknown => JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`);

describe('parseCustomImRequest', () => {
  it('keeps the four fields and the extension untouched, and drops from_number and unknown fields', () => {
    const extension = { title: 'T', constructor: 'kept', valueOf: 1, toString: { a: [1] } };
    expect(parseCustomImRequest({ ...valid, extension, from_number: null, other: 1 })).toEqual({ ...valid, extension });
  });

  it('keeps an integer player id as its decimal string, and treats a null extension as absent', () => {
    expect(parseCustomImRequest({ ...valid, ext_user_id: 42, extension: null })).toEqual({ ...valid, ext_user_id: '42' });
  });

  it('accepts an empty body, fields at their limits, and nesting of exactly the limit', () => {
    const atLimit = {
      ...valid,
      body: '',
      ext_user_id: 'p'.repeat(255),
      im_uid: 'u'.repeat(255),
      extension: { deep: nested(MAX_BODY_DEPTH - 2), d: 'x'.repeat(1000) },
    };
    expect(parseCustomImRequest(atLimit)).toEqual(atLimit);
    expect(parseCustomImRequest({ ...valid, body: 'é'.repeat(32 * 1024) }).body).toHaveLength(32 * 1024);
  });

  it.each<[string, unknown, number, string]>([
    ['an array', [valid], 2, 'request body must be a JSON object'],
    ['a string', 'text', 2, 'request body must be a JSON object'],
    ['no ext_user_id', { ...valid, ext_user_id: undefined }, 2, 'ext_user_id is required'],
    ['null body', { ...valid, body: null }, 2, 'body is required'],
    ['no im_uid', { ...valid, im_uid: undefined }, 2, 'im_uid is required'],
    ['no callback_url', { ...valid, callback_url: undefined }, 2, 'callback_url is required'],
    ['ext_user_id an object', { ...valid, ext_user_id: { id: 1 } }, 2, 'ext_user_id must be a string or an integer'],
    ['ext_user_id a fraction', { ...valid, ext_user_id: 1.5 }, 2, 'ext_user_id must be a string or an integer'],
    ['ext_user_id beyond 2^53', { ...valid, ext_user_id: 2 ** 60 }, 2, 'ext_user_id must be a string or an integer'],
    ['ext_user_id empty', { ...valid, ext_user_id: '' }, 2, 'ext_user_id must not be empty'],
    ['body a number', { ...valid, body: 42 }, 2, 'body must be a string'],
    ['im_uid a number', { ...valid, im_uid: 12 }, 2, 'im_uid must be a string'],
    ['callback_url ftp', { ...valid, callback_url: 'ftp://a.smartico.ai/' }, 2, 'callback_url must be an absolute http or https URL'],
    ['callback_url relative', { ...valid, callback_url: '/cb' }, 2, 'callback_url must be an absolute http or https URL'],
    ['extension an array', { ...valid, extension: [1] }, 2, 'extension must be a JSON object'],
    ['a NUL in body', { ...valid, body: 'a\u0000b' }, 2, 'body must not contain NUL characters or unpaired surrogates'],
    ['a lone surrogate in an extension key', { ...valid, extension: { '\uDC00': 1 } }, 2, 'extension must not contain NUL characters or unpaired surrogates'],
    ['a lone surrogate in callback_url', { ...valid, callback_url: '\uD800' }, 2, 'callback_url must not contain NUL characters or unpaired surrogates'],
    ['im_uid over 255', { ...valid, im_uid: 'u'.repeat(256) }, 3, 'im_uid must be at most 255 characters'],
    ['body over 64 KiB in UTF-8', { ...valid, body: 'é'.repeat(32 * 1024 + 1) }, 3, 'body must be at most 64 KiB'],
    ['callback_url over 2048', { ...valid, callback_url: `https://a.smartico.ai/${'x'.repeat(2048)}` }, 3, 'callback_url must be at most 2048 characters'],
    ['extension over 64 KiB', { ...valid, extension: { d: 'x'.repeat(64 * 1024) } }, 3, 'extension must serialize to at most 64 KiB'],
    ['an unknown field nesting too deep', { ...valid, other: nested(MAX_BODY_DEPTH) }, 3, `other must nest at most ${MAX_BODY_DEPTH} levels`],
    ['the first field in contract order', { ...valid, ext_user_id: '', body: 5, extension: [1] }, 2, 'ext_user_id must not be empty'],
    ['presence and type before size', { ...valid, im_uid: 'u'.repeat(300), body: undefined }, 2, 'body is required'],
  ])('refuses %s', (_name, input, code, message) => {
    expect(refusal(input)).toEqual([code, message]);
  });

  it('refuses 60,000 levels of nesting without overflowing the stack', () => {
    expect(refusal({ ...valid, extension: { d: nested(60_000) } })).toEqual([3, `extension must nest at most ${MAX_BODY_DEPTH} levels`]);
  });
});
