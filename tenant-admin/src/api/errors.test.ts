import { describe, expect, it } from 'vitest';
import { ApiProblem, mapFieldErrors } from './errors';

describe('mapFieldErrors', () => {
  it('puts each problem on its form item', () => {
    const m = mapFieldErrors(
      [
        { field: 'email', problem: 'is not an e-mail address' },
        { field: 'password', problem: 'too short' },
        { field: 'email', problem: 'is taken' },
      ],
      ['email', 'password', 'name'],
    );
    expect(m.fields).toEqual([
      { name: ['email'], errors: ['is not an e-mail address', 'is taken'] },
      { name: ['password'], errors: ['too short'] },
    ]);
    expect(m.rest).toEqual([]);
  });

  it('maps list elements to the list item and unknown fields to the rest', () => {
    const m = mapFieldErrors(
      [
        { field: 'roles.1', problem: 'no such role' },
        { field: 'time_zone', problem: 'bad zone' },
      ],
      ['roles', 'email'],
    );
    expect(m.fields).toEqual([{ name: ['roles'], errors: ['no such role'] }]);
    expect(m.rest).toEqual(['time_zone: bad zone']);
  });

  it('keeps nested form paths, with numeric parts as numbers', () => {
    const m = mapFieldErrors([{ field: 'items.0.qty', problem: 'must be positive' }], [
      'items.0.qty',
    ]);
    expect(m.fields).toEqual([{ name: ['items', 0, 'qty'], errors: ['must be positive'] }]);
  });

  it('follows aliases from server names to form names', () => {
    const m = mapFieldErrors([{ field: 'tenant', problem: 'unknown' }], ['slug'], {
      tenant: 'slug',
    });
    expect(m.fields).toEqual([{ name: ['slug'], errors: ['unknown'] }]);
  });
});

describe('ApiProblem.from', () => {
  it('reads the server body', () => {
    const p = ApiProblem.from(409, {
      code: 'slug_taken',
      message: 'taken',
      fields: [{ field: 'slug', problem: 'taken' }],
    });
    expect([p.status, p.code, p.message, p.fields.length]).toEqual([409, 'slug_taken', 'taken', 1]);
  });

  it('copes with bodies that are not problems', () => {
    const p = ApiProblem.from(502, undefined);
    expect([p.code, p.message, p.fields]).toEqual(['http_502', 'HTTP 502', []]);
  });
});
