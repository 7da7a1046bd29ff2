import { describe, expect, it } from 'vitest';
import { CODE_RULES, codeFromName, codeFromWords, hasChinese, latinWords } from './codes';

describe('codes from names', () => {
  it('joins the pinyin of a Chinese name with _', async () => {
    expect(await codeFromName('黄金会员', CODE_RULES.tier)).toBe('huang_jin_hui_yuan');
    expect(await codeFromName('银卡', CODE_RULES.tier)).toBe('yin_ka');
  });

  it('writes ü as v and keeps Latin words and numbers', async () => {
    expect(await codeFromName('女', CODE_RULES.option)).toBe('nv');
    expect(await codeFromName('VIP 2号', CODE_RULES.tier)).toBe('vip_2_hao');
    expect(await codeFromName('Gold Member', CODE_RULES.tier)).toBe('gold_member');
  });

  it('uses initials when the words are too long for the code', async () => {
    const long = '尊享至尊钻石黑卡会员等级';
    const code = await codeFromName(long, CODE_RULES.tier);
    expect(code).toBe('zxzzzshkhydj');
    expect(code.length).toBeLessThanOrEqual(32);
  });

  it('numbers a taken code', async () => {
    expect(await codeFromName('银卡', CODE_RULES.tier, ['yin_ka'])).toBe('yin_ka_2');
    expect(await codeFromName('银卡', CODE_RULES.tier, ['yin_ka', 'yin_ka_2'])).toBe('yin_ka_3');
  });

  it('never answers a built-in name', async () => {
    expect(await codeFromName('电话', CODE_RULES.field)).toBe('dian_hua');
    expect(codeFromWords(['phone'], CODE_RULES.field)).toBe('phone_2');
    expect(codeFromWords(['owner'], CODE_RULES.role)).toBe('owner_2');
    expect(codeFromWords(['birthday'], CODE_RULES.event)).toBe('birthday_2');
  });

  it('starts with a letter and falls back when the name gives nothing', async () => {
    expect(await codeFromName('2024', CODE_RULES.field)).toBe('field_2024');
    expect(await codeFromName('★★', CODE_RULES.tier, ['tier_1'])).toBe('tier_2');
    expect(await codeFromName('', CODE_RULES.role)).toBe('role_1');
    // Role names need two characters.
    expect(codeFromWords(['a'], CODE_RULES.role)).toBe('role_1');
  });

  it('answers codes the server accepts', async () => {
    for (const name of ['黄金会员', '私教课 10 次卡', '会员生日 🎂', 'Ünïcode café', '一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十']) {
      const tier = await codeFromName(name, CODE_RULES.tier);
      expect(tier).toMatch(/^[a-z][a-z0-9_]{0,31}$/);
      const key = await codeFromName(name, CODE_RULES.field);
      expect(key).toMatch(/^[a-z][a-z0-9_]{0,39}$/);
    }
  });

  it('tells Chinese from Latin text', () => {
    expect(hasChinese('金卡')).toBe(true);
    expect(hasChinese('Gold')).toBe(false);
    expect(latinWords('Crème Brûlée-2')).toEqual(['creme', 'brulee', '2']);
  });
});
