import { describe, expect, it } from 'vitest';
import { previewRedemption, valueOf } from './redeem';

const settings = {
  redeem_points: 100,
  redeem_value: 100,
  max_deduction_percent: 50,
  min_redeem_points: 1,
  redemption_check_above: 300,
};

describe('a redemption before it is sent', () => {
  it('values a reward at the business ratio', () => {
    expect(valueOf(settings, 250)).toBe(250);
    expect(previewRedemption(settings, 1000, { points: 250 })).toEqual({ points: 250, value: 250, needsCheck: false });
  });

  it('money off with the points left empty spends what the cap allows, not the whole balance', () => {
    // 10.00 off a 20.00 purchase at most: 1000 points, though the balance is 5000.
    const p = previewRedemption(settings, 5000, { purchaseAmount: 2000 });
    expect(p).toEqual({ points: 1000, value: 1000, amountDue: 1000, needsCheck: true });
    // A small balance spends only itself.
    expect(previewRedemption(settings, 120, { purchaseAmount: 2000 }).points).toBe(120);
    // Points given are kept when within the cap.
    expect(previewRedemption(settings, 5000, { purchaseAmount: 2000, points: 200 }).points).toBe(200);
  });

  it('asks for the member check only above the threshold', () => {
    expect(previewRedemption(settings, 1000, { points: 300 }).needsCheck).toBe(false);
    expect(previewRedemption(settings, 1000, { points: 301 }).needsCheck).toBe(true);
    expect(previewRedemption({ ...settings, redemption_check_above: undefined }, 1000, { points: 900 }).needsCheck).toBe(false);
  });
});
