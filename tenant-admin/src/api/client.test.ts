import { describe, expect, it } from 'vitest';
import { call, isOps } from './client';
import { ApiProblem } from './errors';

describe('api client', () => {
  it('sends operator endpoints the operator token, every other one the staff token', () => {
    expect(isOps('/ops/tenants/{id}/plan')).toBe(true);
    expect(isOps('/staff')).toBe(false);
    expect(isOps('/opsx')).toBe(false);
  });

  it('unwraps data and turns error bodies into ApiProblems', async () => {
    const ok = new Response('{}', { status: 200 });
    await expect(call(Promise.resolve({ data: { a: 1 }, response: ok }))).resolves.toEqual({ a: 1 });

    const bad = new Response('', { status: 402 });
    const err = await call(
      Promise.resolve({
        error: { code: 'feature_not_in_plan', message: 'needs api_keys', plan: 'free' },
        response: bad,
      }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiProblem);
    expect([(err as ApiProblem).status, (err as ApiProblem).code]).toEqual([402, 'feature_not_in_plan']);
  });
});
