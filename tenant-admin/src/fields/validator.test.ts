// The custom-field validator against Ajv (what the forms used before the console's CSP
// forbade run-time compiling): the same problems, at the same places, with the same words,
// for every kind of field a business can define.
import { describe, expect, it } from 'vitest';
import ajvValidator from '@rjsf/validator-ajv8';
import { validator } from './validator';
import { compileJsonSchema, compileUiSchema, localize, type FieldDto } from './schema';

const fd = (x: Partial<FieldDto> & Pick<FieldDto, 'key' | 'type'>): FieldDto => ({
  label: { 'zh-CN': x.key, en: x.key.toUpperCase() },
  required: false,
  member_visible: true,
  member_editable: false,
  options: [],
  ...x,
});

const opts = (...values: string[]) => values.map((value) => ({ value, label: { 'zh-CN': value, en: value } }));

const FIELDS: FieldDto[] = [
  fd({ key: 'nick', type: 'text', min_length: 2, max_length: 5, pattern: '^[a-z]+$', required: true }),
  fd({ key: 'bio', type: 'long_text' }),
  fd({ key: 'mail', type: 'email' }),
  fd({ key: 'tel', type: 'phone', pattern: '^\\+?\\d+$' }),
  fd({ key: 'size', type: 'integer', minimum: 30, maximum: 50, required: true }),
  fd({ key: 'weight', type: 'decimal', minimum: 0.5 }),
  fd({ key: 'born', type: 'date' }),
  fd({ key: 'vip', type: 'boolean' }),
  fd({ key: 'goal', type: 'single_select', options: opts('lose', 'gain') }),
  fd({ key: 'likes', type: 'multi_select', options: opts('yoga', 'run', 'swim') }),
];
// As the form gets it.
const SCHEMA = localize(compileJsonSchema(FIELDS), compileUiSchema(FIELDS), 'en').schema as never;

const CASES: [string, unknown][] = [
  ['all good', { nick: 'abc', size: 40, mail: 'a@b.example', born: '2024-02-29', vip: true, goal: 'gain', likes: ['yoga', 'swim'], weight: 60.5, tel: '+86138' }],
  ['empty', {}],
  ['too short and not the pattern', { nick: 'A', size: 30 }],
  ['too long, in code points', { nick: '𝒶𝒷𝒸𝒹𝒺𝒻', size: 30 }],
  ['out of range', { nick: 'ab', size: 51, weight: 0.1 }],
  ['not an integer', { nick: 'ab', size: 40.5 }],
  ['wrong types', { nick: 12, size: '40', vip: 'yes', likes: 'yoga' }],
  ['bad date and e-mail', { nick: 'ab', size: 40, born: '2023-02-29', mail: 'not-mail' }],
  ['not an option', { nick: 'ab', size: 40, goal: 'sleep', likes: ['yoga', 'dance'] }],
  ['the same option twice', { nick: 'ab', size: 40, likes: ['run', 'yoga', 'run'] }],
  ['a field nobody defined', { nick: 'ab', size: 40, shoe: 1 }],
];

const shape = (errors: { name?: string; property?: string; message?: string }[]) =>
  errors.map((e) => `${e.property} ${e.name}: ${e.message}`).sort();

describe('the custom-field validator', () => {
  for (const [name, data] of CASES) {
    it(`finds what Ajv finds: ${name}`, () => {
      const ours = validator.validateFormData(data, SCHEMA);
      const ajv = ajvValidator.validateFormData(data, SCHEMA);
      expect(shape(ours.errors)).toEqual(shape(ajv.errors));
      expect(ours.errorSchema).toEqual(ajv.errorSchema);
      expect(validator.isValid(SCHEMA, data, SCHEMA)).toBe(ajvValidator.isValid(SCHEMA, data, SCHEMA));
    });
  }

  it('refuses what it should, so the comparison above cannot pass on two empty lists', () => {
    expect(validator.validateFormData({}, SCHEMA).errors.map((e) => e.property).sort()).toEqual(['nick', 'size']);
    expect(validator.validateFormData(CASES[0]![1], SCHEMA).errors).toEqual([]);
  });

  it('never compiles code', () => {
    const real = globalThis.Function;
    const trap = new Proxy(real, {
      construct() {
        throw new Error('new Function');
      },
      apply() {
        throw new Error('Function()');
      },
    });
    globalThis.Function = trap;
    try {
      for (const [, data] of CASES) validator.validateFormData(data, SCHEMA);
    } finally {
      globalThis.Function = real;
    }
  });
});
