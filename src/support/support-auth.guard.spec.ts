import { ExecutionContext, UnauthorizedException } from '@nestjs/common';

import type { AppConfig } from '../config/app.config';
import { SupportAuthGuard, SupportRequest } from './support-auth.guard';

describe('SupportAuthGuard', () => {
  const guard = (keys: string[], brands: AppConfig['brands'] = []): SupportAuthGuard => new SupportAuthGuard({ supportApiKeys: keys, brands });
  const request = (authorization?: string): SupportRequest => ({ headers: authorization === undefined ? {} : { authorization } }) as SupportRequest;
  const contextOf = (req: SupportRequest): ExecutionContext => ({ switchToHttp: () => ({ getRequest: () => req }) }) as ExecutionContext;

  it('lets a configured key in and records which one (its index, not the key)', () => {
    const sut = guard(['key-zero-0123456789', 'key-one-0123456789']);
    const req = request('Bearer key-one-0123456789');
    expect(sut.canActivate(contextOf(req))).toBe(true);
    expect(req.supportKeyIndex).toBe(1);
    expect(req.supportScope).toBeNull();
    expect(Object.keys(req)).toEqual(['headers', 'supportKeyIndex', 'supportScope']);
  });

  it("limits a brand's own key to that brand", () => {
    const sut = guard(['key-zero-0123456789'], [{ id: 'brand-b', supportApiKeys: ['key-of-b-0123456789'], operatorApiKeys: [] }]);
    const req = request('Bearer key-of-b-0123456789');
    expect(sut.canActivate(contextOf(req))).toBe(true);
    expect(req.supportScope).toBe('brand-b');
    expect(req.supportKeyIndex).toBe(1);
  });

  it.each([undefined, '', 'key-zero-0123456789', 'Bearer', 'Bearer ', 'Bearer key-zero', 'Bearer key-zero-0123456789 x', 'Basic key-zero-0123456789'])(
    'refuses %j with 401',
    (authorization) => {
      const req = request(authorization);
      expect(() => guard(['key-zero-0123456789']).canActivate(contextOf(req))).toThrow(UnauthorizedException);
      expect(req.supportKeyIndex).toBeUndefined();
    },
  );

  it('refuses everyone when no key is configured', () => {
    expect(() => guard([]).canActivate(contextOf(request('Bearer ')))).toThrow(UnauthorizedException);
    expect(() => guard([]).canActivate(contextOf(request('Bearer anything')))).toThrow(UnauthorizedException);
  });
});
