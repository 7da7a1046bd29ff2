import { describe, expect, it } from 'vitest';
import { mapFieldErrors } from '../api/errors';
import { purchaseReasons, toMinor } from './reasons';
import { formToSettings, SETTINGS_ALIAS, SETTINGS_ITEMS, settingsToForm } from './settings';

const view = {
  expiry: { mode: 'end_of_month', months: 6 },
  refund_shortfall: 'negative',
  redeem_points: 100,
  redeem_value: 150,
  min_redeem_points: 10,
  max_deduction_percent: 50,
  check_in_points: 5,
  streak_days: 7,
  streak_bonus: 20,
};

describe('point settings form', () => {
  it('shows the redemption value in yuan and the expiry as separate items', () => {
    expect(settingsToForm(view)).toMatchObject({
      expiry_mode: 'end_of_month',
      expiry_months: 6,
      expiry_days: 365,
      redeem_value: 1.5,
      refund_shortfall: 'negative',
    });
  });

  it('round-trips to the body the API takes, with only the expiry fields of the mode', () => {
    expect(formToSettings(settingsToForm(view))).toEqual(view);
    const days = formToSettings({ ...settingsToForm(view), expiry_mode: 'days', expiry_days: 30 });
    expect(days.expiry).toEqual({ mode: 'days', days: 30 });
    expect(formToSettings({ ...settingsToForm(view), expiry_mode: 'never' }).expiry).toEqual({ mode: 'never' });
  });

  it('puts the server field errors of the expiry on their items', () => {
    const m = mapFieldErrors([{ field: 'expiry.days', problem: 'must be 1 to 36500' }], SETTINGS_ITEMS, SETTINGS_ALIAS);
    expect(m.fields).toEqual([{ name: ['expiry_days'], errors: ['must be 1 to 36500'] }]);
  });
});

describe('purchase reasons and money', () => {
  it('keeps only well-formed reasons', () => {
    expect(purchaseReasons([{ points: 5, reason: 'x', line: 0 }, { points: 'a' }, null])).toEqual([{ points: 5, reason: 'x', line: 0 }]);
    expect(purchaseReasons(undefined)).toEqual([]);
  });

  it('turns major units into minor units by the currency', () => {
    expect(toMinor(12.34, 'CNY')).toBe(1234);
    expect(toMinor(500, 'JPY')).toBe(500);
  });
});
