// The prepaid tab's pieces that can go wrong without a server: yuan typed at the counter
// read as fen, and a top-up refreshing every query of that member (and no other's).
import { describe, expect, it } from 'vitest';
import { partialMatchKey } from '@tanstack/react-query';
import { prepaidKeys } from './api';
import { toMinor } from './TopUpModal';

describe('prepaid', () => {
  it('reads yuan as whole fen, without floating-point loss', () => {
    expect(toMinor(0.29)).toBe(29);
    expect(toMinor(1000.1)).toBe(100010);
    expect(toMinor(19.99)).toBe(1999);
    expect(toMinor(undefined)).toBe(0);
  });

  it("refreshes the member's balance, passes, memberships and previews after a top-up", () => {
    const after = prepaidKeys.member('m1');
    for (const key of [
      prepaidKeys.storedValue('m1'),
      prepaidKeys.passes('m1'),
      prepaidKeys.memberships('m1'),
      prepaidKeys.preview('m1', 10000),
    ]) {
      expect(partialMatchKey(key, after)).toBe(true);
    }
    expect(partialMatchKey(prepaidKeys.storedValue('m2'), after)).toBe(false);
  });
});
