import { describe, expect, it } from 'vitest';
import i18next, { type TFunction } from 'i18next';
import { english, zh } from '../i18n/resources';
import { ApiProblem, setFieldProblemText } from '../api/errors';
import { fieldProblemText } from '../api/fieldText';
import { errorText, fieldProblems } from './forms';

// The console's own strings, through a real i18next.
async function translator(lng: 'zh-CN' | 'en'): Promise<TFunction> {
  const i = i18next.createInstance();
  await i.init({
    lng,
    resources: { 'zh-CN': { translation: zh }, en: { translation: english } },
    interpolation: { escapeValue: false },
  });
  return i.t.bind(i) as TFunction;
}

const invalid = ApiProblem.from(422, {
  code: 'invalid_input',
  message: '4 fields are invalid',
  fields: [
    { field: 'name', code: 'too_long', params: { max: 40 }, problem: 'must be at most 40 characters' },
    { field: 'phone', code: 'not_a_phone', params: { value: '12345' }, problem: '"12345" is not a phone number' },
    { field: 'referrer_id', code: 'not_allowed', params: { reason: 'self_referral' }, problem: 'a member cannot refer themselves' },
    { field: 'slug', code: 'invalid_format', params: { format: 'slug' }, problem: 'may contain only ...' },
    { field: 'legacy', code: 'invalid', params: {}, problem: 'some English words' },
  ],
});

describe('field problems', () => {
  it('are said from their code and parameters in zh-CN', async () => {
    const t = await translator('zh-CN');
    expect(fieldProblems(t, invalid).map((f) => f.problem)).toEqual([
      '最多 40 个字符',
      '“12345”不是有效的手机号',
      '会员不能推荐自己',
      '只能包含小写字母、数字和连字符，并以字母开头',
      'some English words',
    ]);
  });

  it('are said from their code and parameters in en', async () => {
    const t = await translator('en');
    expect(fieldProblems(t, invalid).map((f) => f.problem)[0]).toBe('At most 40 characters');
    expect(fieldProblems(t, invalid).map((f) => f.problem)[1]).toBe('"12345" is not a phone number');
  });

  it('use a refusal code for the field it blames, with its parameters', async () => {
    const t = await translator('zh-CN');
    const conflict = ApiProblem.from(409, {
      code: 'insufficient_points',
      message: 'the member has 1199 points',
      fields: [{ field: 'points', code: 'insufficient_points', params: { balance: 1199, asked: 1500 }, problem: 'the member has 1199 points' }],
      params: { balance: 1199, asked: 1500 },
    });
    expect(fieldProblems(t, conflict)[0]!.problem).toBe('会员积分不足（现有 1199 分）。');
    expect(errorText(t, conflict)).toBe('会员积分不足（现有 1199 分）。');
  });
});

describe('every failed call', () => {
  it('carries its field problems in the console language once a translator is set, and the English', async () => {
    const t = await translator('zh-CN');
    setFieldProblemText((f, outer) => fieldProblemText(t, f, outer));
    try {
      const p = ApiProblem.from(422, {
        code: 'invalid_input',
        message: 'name must be at most 40 characters',
        fields: [{ field: 'name', code: 'too_long', params: { max: 40 }, problem: 'must be at most 40 characters' }],
      });
      expect(p.fields[0]).toMatchObject({ problem: '最多 40 个字符', english: 'must be at most 40 characters' });
    } finally {
      setFieldProblemText(undefined);
    }
  });
});
