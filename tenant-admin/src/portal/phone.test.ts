import { describe, expect, it } from 'vitest';
import { formatPhone } from './phone';

describe('formatPhone', () => {
  it('groups a mainland mobile 3-4-4 and leaves other numbers as they are', () => {
    expect(formatPhone('+8613655556666')).toBe('136 5555 6666');
    expect(formatPhone('13655556666')).toBe('136 5555 6666');
    expect(formatPhone('+85291234567')).toBe('+85291234567');
    expect(formatPhone(null)).toBe('');
  });
});
