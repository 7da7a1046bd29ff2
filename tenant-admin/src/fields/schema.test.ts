import { describe, expect, it } from 'vitest';
import { getDefaultFormState } from '@rjsf/utils';
import { validator } from './validator';
import {
  DEFAULT_FORM_STATE,
  compileJsonSchema,
  compileUiSchema,
  fromDtos,
  typedDate,
  localProblems,
  localize,
  move,
  newField,
  serverProblems,
  setType,
  splitCustomProblems,
  toDtos,
  type FieldDto,
} from './schema';

const fd = (x: Partial<FieldDto> & Pick<FieldDto, 'key' | 'type' | 'label'>): FieldDto => ({
  required: false,
  member_visible: true,
  member_editable: false,
  options: [],
  ...x,
});

const SIZE: FieldDto = {
  key: 'shoe_size',
  type: 'integer',
  label: { 'zh-CN': '鞋码', en: 'Shoe size' },
  required: true,
  minimum: 30,
  maximum: 50,
  member_visible: true,
  member_editable: true,
  options: [],
  help: { 'zh-CN': '欧码', en: 'EU size' },
};
const GOAL: FieldDto = fd({
  key: 'goal',
  type: 'single_select',
  label: { 'zh-CN': '目标', en: '' },
  options: [
    { value: 'lose', label: { 'zh-CN': '减脂', en: 'Lose weight' } },
    { value: 'gain', label: { 'zh-CN': '增肌', en: 'Gain muscle' } },
  ],
});

describe('designer list', () => {
  it('round-trips published fields through the designer unchanged', () => {
    const dtos = toDtos(fromDtos([SIZE, GOAL]));
    expect(dtos[0]).toEqual(SIZE);
    expect(dtos[1]).toMatchObject({ key: 'goal', type: 'single_select', required: false, options: GOAL.options });
    expect(dtos[1]).not.toHaveProperty('help');
  });

  it('leaves archived fields out of the draft', () => {
    expect(fromDtos([{ ...SIZE, archived: true }, GOAL]).map((f) => f.key)).toEqual(['goal']);
  });

  it('gives a new field a free key and starter options for selects', () => {
    const f = newField('multi_select', ['field_2']);
    expect(f.key).toBe('field_3');
    expect(f.isNew).toBe(true);
    expect(f.options.length).toBeGreaterThan(0);
  });

  it('drops settings the new type does not have when the type changes', () => {
    const [size] = fromDtos([SIZE]);
    const text = setType(size!, 'text');
    expect(text.minimum).toBeUndefined();
    expect(text.maximum).toBeUndefined();
    const sel = setType({ ...text, pattern: '^a' }, 'single_select');
    expect(sel.pattern).toBeUndefined();
    expect(sel.options.length).toBe(2);
    expect(toDtos([setType(sel, 'date')])[0]!.options).toEqual([]);
  });

  it('moves fields and ignores moves past either end', () => {
    expect(move(['a', 'b', 'c'], 0, 2)).toEqual(['b', 'c', 'a']);
    expect(move(['a', 'b', 'c'], 2, 1)).toEqual(['a', 'c', 'b']);
    expect(move(['a', 'b', 'c'], 0, -1)).toEqual(['a', 'b', 'c']);
    expect(move(['a', 'b', 'c'], 2, 3)).toEqual(['a', 'b', 'c']);
  });

  it('finds bad keys, missing labels, bad options and crossed limits before the server does', () => {
    const draft = fromDtos([SIZE, GOAL]);
    draft.push({ ...newField('text', []), key: 'Bad Key', label: { 'zh-CN': '', en: '' } });
    draft.push({ ...newField('text', []), key: 'phone', label: { 'zh-CN': 'x', en: '' } });
    draft.push({ ...newField('text', []), key: 'goal', label: { 'zh-CN': 'x', en: '' }, min_length: 5, max_length: 2 });
    draft[0] = { ...draft[0]!, minimum: 60 };
    draft[1] = { ...draft[1]!, options: [...draft[1]!.options, { value: 'lose', label: { 'zh-CN': '', en: '' } }] };
    const p = localProblems(draft);
    expect(p.get(draft[0]!.uid)).toEqual(['range']);
    expect(p.get(draft[1]!.uid)).toEqual(['optionValues']);
    expect(p.get(draft[2]!.uid)).toEqual(['key', 'label']);
    expect(p.get(draft[3]!.uid)).toEqual(['keyBuiltin']);
    expect(p.get(draft[4]!.uid)).toEqual(['keyTwice', 'lengths']);
    expect(localProblems(fromDtos([SIZE, GOAL])).size).toBe(0);
  });

  it('puts the server problems on the field they name', () => {
    const draft = fromDtos([SIZE, GOAL]);
    const { byField, rest } = serverProblems(
      [
        { field: 'fields.1.options.0.value', problem: 'is used twice' },
        { field: 'fields', problem: 'at most 200 fields' },
      ],
      draft,
    );
    expect(byField.get(draft[1]!.uid)).toEqual(['options.0.value: is used twice']);
    expect(rest).toEqual(['fields: at most 200 fields']);
  });
});

describe('compiled schemas', () => {
  it('match what the server compiles', () => {
    const email = fd({ key: 'work_mail', type: 'email', label: { 'zh-CN': '工作邮箱', en: '' } });
    const tags: FieldDto = { ...GOAL, key: 'likes', type: 'multi_select' };
    expect(compileJsonSchema([SIZE, GOAL, email, tags, { ...SIZE, key: 'old', archived: true }])).toEqual({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        shoe_size: { title: 'Shoe size', type: 'integer', minimum: 30, maximum: 50 },
        goal: { title: '目标', type: 'string', enum: ['lose', 'gain'] },
        work_mail: { title: '工作邮箱', type: 'string', maxLength: 254, format: 'email' },
        likes: { title: '目标', type: 'array', uniqueItems: true, items: { type: 'string', enum: ['lose', 'gain'] } },
      },
      required: ['shoe_size'],
      additionalProperties: false,
    });
    const ui = compileUiSchema([SIZE, GOAL]);
    expect(ui['ui:order']).toEqual(['shoe_size', 'goal']);
    expect(ui.shoe_size).toEqual({
      'ui:help': 'EU size',
      'ui:options': { labels: SIZE.label, help: SIZE.help, memberVisible: true, memberEditable: true, enumLabels: {} },
    });
    expect((ui.goal as Record<string, unknown>)['ui:widget']).toBe('select');
  });
});

describe('localize', () => {
  const json = compileJsonSchema([SIZE, GOAL, fd({ key: 'mobile', type: 'phone', label: { 'zh-CN': '备用手机', en: 'Spare phone' } })]);
  const ui = compileUiSchema([SIZE, GOAL, fd({ key: 'mobile', type: 'phone', label: { 'zh-CN': '备用手机', en: 'Spare phone' } })]);

  it('titles, options and help come in the chosen language', () => {
    const zh = localize(json, ui, 'zh-CN');
    const props = zh.schema.properties as Record<string, Record<string, unknown>>;
    expect(props.shoe_size!.title).toBe('鞋码');
    expect(props.goal!.oneOf).toEqual([
      { const: 'lose', title: '减脂' },
      { const: 'gain', title: '增肌' },
    ]);
    expect(props.goal!.enum).toBeUndefined();
    expect((zh.uiSchema.shoe_size as Record<string, unknown>)['ui:help']).toBe('欧码');
    expect(zh.schema.required).toEqual(['shoe_size']);
    expect(zh.schema.$schema).toBeUndefined();
    // A missing English label falls back to Chinese.
    const en = localize(json, ui, 'en');
    expect((en.schema.properties as Record<string, Record<string, unknown>>).goal!.title).toBe('目标');
  });

  it('renders phone fields as telephone inputs', () => {
    const { uiSchema } = localize(json, ui, 'en');
    expect(uiSchema.mobile).toEqual({ 'ui:options': { inputType: 'tel' } });
  });

  it('keeps only the fields asked for, in order', () => {
    const { schema, uiSchema } = localize(json, ui, 'en', ['goal']);
    expect(Object.keys(schema.properties as object)).toEqual(['goal']);
    expect(schema.required).toEqual([]);
    expect(uiSchema['ui:order']).toEqual(['goal']);
  });

  it('survives an empty or missing schema', () => {
    expect(localize(undefined, null, 'en').schema).toEqual({ type: 'object', properties: {}, required: [] });
  });
});

describe('server errors on custom values', () => {
  it('go to the custom form by key, the rest stay', () => {
    const { custom, other } = splitCustomProblems([
      { field: 'custom.shoe_size', problem: 'must be at least 30' },
      { field: 'custom.likes.1', problem: 'is not an option' },
      { field: 'phone', problem: 'is not a phone number' },
    ]);
    expect(custom).toEqual({ shoe_size: { __errors: ['must be at least 30'] }, likes: { __errors: ['is not an option'] } });
    expect(other).toEqual([{ field: 'phone', problem: 'is not a phone number' }]);
  });
});

describe('a required select', () => {
  it('starts empty in the rendered form instead of on its first option', () => {
    const fields = [{ ...GOAL, required: true }];
    const { schema } = localize(compileJsonSchema(fields), compileUiSchema(fields), 'zh-CN');
    const start = (behaviour?: typeof DEFAULT_FORM_STATE) =>
      getDefaultFormState(validator, schema as never, {}, schema as never, false, behaviour) as Record<string, unknown>;
    // What react-jsonschema-form does on its own: the first option, chosen for the member.
    expect(start()).toEqual({ goal: 'lose' });
    expect(start(DEFAULT_FORM_STATE)).toEqual({});
    // Left empty, the form refuses it.
    const errors = validator.validateFormData(start(DEFAULT_FORM_STATE), schema as never).errors;
    expect(errors.map((e) => e.property)).toContain('goal');
  });
});

describe('member visibility', () => {
  it('keeps published fields visible, and an editable field is always sent as visible', () => {
    const [hidden] = fromDtos([fd({ key: 'expires', type: 'date', label: { 'zh-CN': '到期', en: '' }, member_visible: false })]);
    expect(hidden!.member_visible).toBe(false);
    expect(fromDtos([SIZE])[0]!.member_visible).toBe(true);
    const [dto] = toDtos([{ ...hidden!, member_editable: true }]);
    expect(dto!.member_visible).toBe(true);
    expect(toDtos([hidden!])[0]!.member_visible).toBe(false);
  });
});

describe('typedDate', () => {
  it('takes a whole typed date, nothing less', () => {
    expect(typedDate('2026-03-01')).toBe('2026-03-01');
    expect(typedDate(' 2026-03-01 ')).toBe('2026-03-01');
    expect(typedDate('2026-03-0')).toBeUndefined();
    expect(typedDate('2026-02-30')).toBeUndefined();
    expect(typedDate('')).toBeUndefined();
  });
});
