import { describe, expect, it } from 'vitest';
import { translator } from '../i18n/testing';
import { importFailureText } from './importText';

describe('importFailureText', () => {
  it('says why an import failed in the reader language, with its values', async () => {
    const tz = await translator('zh-CN');
    const te = await translator('en');
    const bad = { message: '3 problems in the file; nothing was imported', message_code: 'bad_rows', message_params: { count: 3 } };
    expect(importFailureText(tz, bad)).toBe('文件中有 3 处问题，未导入任何数据');
    expect(importFailureText(te, bad)).toBe('3 problems in the file; nothing was imported');
    const column = { message: 'x', message_code: 'column_not_a_field', message_params: { column: '等级', field: 'custom.level' } };
    expect(importFailureText(tz, column)).toBe('列 等级 对应的 custom.level 不是会员字段');
    const limit = { message: 'x', message_code: 'plan_limit', message_params: { allowed: 500, usage: 480, adding: 30 } };
    expect(importFailureText(tz, limit)).toBe('当前套餐最多 500 名会员，已登记 480 名，本文件将新增 30 名');
  });

  it('falls back to the server words for a code it does not know, and says nothing without either', async () => {
    const tz = await translator('zh-CN');
    expect(importFailureText(tz, { message: 'something new', message_code: 'brand_new', message_params: {} })).toBe('something new');
    expect(importFailureText(tz, { message: null, message_code: null, message_params: {} })).toBeUndefined();
  });
});
