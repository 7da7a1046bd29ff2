// The member field designer's logic, free of React: the designer's list of fields, the JSON
// Schema and UI schema it compiles to (the same as the server's, so the preview shows what
// members will see), and the localisation that turns a schema pair into the form one
// language renders with react-jsonschema-form.
import type { Schemas } from '../api/client';
import dayjs from 'dayjs';

/** A field as the API has it; `member_visible` may be left out (the server takes it as true). */
export type FieldDto = Omit<Schemas['FieldDto'], 'member_visible'> & { member_visible?: boolean };
export type FieldType = Schemas['FieldTypeDto'];
export type Labels = { 'zh-CN': string; en: string };
export type Lang = 'zh-CN' | 'en';

export const FIELD_TYPES: readonly FieldType[] = [
  'text',
  'long_text',
  'integer',
  'decimal',
  'date',
  'boolean',
  'single_select',
  'multi_select',
  'phone',
  'email',
];

/** Keys of the fields every business has; custom fields may not use them. */
export const BUILTIN_KEYS: readonly string[] = [
  'name', 'phone', 'email', 'gender', 'birthday', 'join_date', 'home_store', 'tags', 'notes',
  'referrer', 'referrer_id', 'card', 'card_number', 'id', 'status', 'password',
];

export const isText = (t: FieldType) => t === 'text' || t === 'long_text' || t === 'phone' || t === 'email';
export const isNumber = (t: FieldType) => t === 'integer' || t === 'decimal';
export const isSelect = (t: FieldType) => t === 'single_select' || t === 'multi_select';

/** Longest text the server accepts when the admin sets no limit. */
export function defaultMaxLength(t: FieldType): number {
  return t === 'long_text' ? 5000 : t === 'email' ? 254 : t === 'phone' ? 32 : 200;
}

export interface DraftOption {
  value: string;
  label: Labels;
  /** Not yet published: its value may still change. */
  isNew?: boolean;
  /** The value is made from the label (a new option whose value was not typed). */
  valueAuto?: boolean;
}

/** One field as the designer edits it; `uid` identifies it while its key is being typed. */
export interface DraftField {
  uid: string;
  key: string;
  type: FieldType;
  label: Labels;
  required: boolean;
  minimum?: number;
  maximum?: number;
  min_length?: number;
  max_length?: number;
  pattern?: string;
  options: DraftOption[];
  /** Members see it in the portal and fill it when they register. */
  member_visible: boolean;
  /** Members may change it later (only visible fields). */
  member_editable: boolean;
  help: Labels;
  /** Not yet in a published version: its key may still change. */
  isNew: boolean;
  /** The key is made from the label (a new field whose key was not typed). */
  keyAuto?: boolean;
}

let seq = 0;
const uid = () => `f${++seq}`;

const labels = (l?: Partial<Labels> | null): Labels => ({ 'zh-CN': l?.['zh-CN'] ?? '', en: l?.en ?? '' });

/** The designer's list for the fields in force. */
export function fromDtos(fields: readonly FieldDto[]): DraftField[] {
  return fields
    .filter((f) => !f.archived)
    .map((f) => ({
      uid: uid(),
      key: f.key,
      type: f.type,
      label: labels(f.label),
      required: f.required ?? false,
      minimum: f.minimum ?? undefined,
      maximum: f.maximum ?? undefined,
      min_length: f.min_length ?? undefined,
      max_length: f.max_length ?? undefined,
      pattern: f.pattern ?? undefined,
      options: (f.options ?? []).map((o) => ({ value: o.value, label: labels(o.label) })),
      member_visible: f.member_visible ?? true,
      member_editable: f.member_editable ?? false,
      help: labels(f.help),
      isNew: false,
    }));
}

/** A fresh field of `type`, with a key no other field of `taken` uses. */
export function newField(type: FieldType, taken: readonly string[]): DraftField {
  let n = taken.length + 1;
  while (taken.includes(`field_${n}`)) n++;
  return setType(
    {
      uid: uid(),
      key: `field_${n}`,
      type,
      label: { 'zh-CN': '', en: '' },
      required: false,
      options: [],
      member_visible: true,
      member_editable: false,
      help: { 'zh-CN': '', en: '' },
      isNew: true,
      keyAuto: true,
    },
    type,
  );
}

/** A new option of a field, its value made from its label until typed. */
export function newOption(f: DraftField): DraftOption {
  let n = f.options.length + 1;
  while (f.options.some((o) => o.value === `option_${n}`)) n++;
  return { value: `option_${n}`, label: { 'zh-CN': '', en: '' }, isNew: true, valueAuto: true };
}

/** Changes a field's type, dropping the settings the new type does not have. */
export function setType(f: DraftField, type: FieldType): DraftField {
  const next: DraftField = { ...f, type };
  if (!isNumber(type)) {
    delete next.minimum;
    delete next.maximum;
  }
  if (!isText(type)) {
    delete next.min_length;
    delete next.max_length;
    delete next.pattern;
  }
  if (!isSelect(type)) next.options = [];
  else if (next.options.length === 0) {
    next.options = [
      { value: 'a', label: { 'zh-CN': '选项 A', en: 'Option A' }, isNew: true, valueAuto: true },
      { value: 'b', label: { 'zh-CN': '选项 B', en: 'Option B' }, isNew: true, valueAuto: true },
    ];
  }
  return next;
}

/** Moves the field at `from` to `to`. */
export function move<T>(list: readonly T[], from: number, to: number): T[] {
  if (to < 0 || to >= list.length || from === to) return [...list];
  const next = [...list];
  const [item] = next.splice(from, 1);
  next.splice(to, 0, item as T);
  return next;
}

const blank = (v: string | undefined) => v === undefined || v.trim() === '';
const num = (v: number | undefined | null) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** What the API takes: the draft as field definitions, in form order. */
export function toDtos(draft: readonly DraftField[]): Schemas['FieldDto'][] {
  return draft.map((f) => {
    const dto: Schemas['FieldDto'] = {
      key: f.key.trim(),
      type: f.type,
      label: { 'zh-CN': f.label['zh-CN'].trim(), en: f.label.en.trim() },
      required: f.required,
      member_visible: f.member_visible || f.member_editable,
      member_editable: f.member_editable,
      options: [],
    };
    if (isNumber(f.type)) {
      if (num(f.minimum) !== undefined) dto.minimum = f.minimum;
      if (num(f.maximum) !== undefined) dto.maximum = f.maximum;
    }
    if (isText(f.type)) {
      if (num(f.min_length) !== undefined) dto.min_length = f.min_length;
      if (num(f.max_length) !== undefined) dto.max_length = f.max_length;
      if (!blank(f.pattern)) dto.pattern = f.pattern;
    }
    if (isSelect(f.type)) {
      dto.options = f.options.map((o) => ({
        value: o.value.trim(),
        label: { 'zh-CN': o.label['zh-CN'].trim(), en: o.label.en.trim() },
      }));
    }
    if (!blank(f.help['zh-CN']) || !blank(f.help.en)) {
      dto.help = { 'zh-CN': f.help['zh-CN'].trim(), en: f.help.en.trim() };
    }
    return dto;
  });
}

/** Problems the designer can see before asking the server (keys, labels, options, limits). */
export function localProblems(draft: readonly DraftField[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (f: DraftField, p: string) => out.set(f.uid, [...(out.get(f.uid) ?? []), p]);
  draft.forEach((f, i) => {
    if (!/^[a-z][a-z0-9_]{0,39}$/.test(f.key)) add(f, 'key');
    else if (BUILTIN_KEYS.includes(f.key)) add(f, 'keyBuiltin');
    else if (draft.slice(0, i).some((g) => g.key === f.key)) add(f, 'keyTwice');
    if (blank(f.label['zh-CN']) && blank(f.label.en)) add(f, 'label');
    if (isSelect(f.type)) {
      if (f.options.length === 0) add(f, 'options');
      const values = f.options.map((o) => o.value.trim());
      if (values.some((v) => v === '') || new Set(values).size !== values.length) add(f, 'optionValues');
    }
    if (num(f.minimum) !== undefined && num(f.maximum) !== undefined && f.minimum! > f.maximum!) add(f, 'range');
    if (num(f.min_length) !== undefined && num(f.max_length) !== undefined && f.min_length! > f.max_length!)
      add(f, 'lengths');
  });
  return out;
}

/** The server's problems (`fields.<i>.<attribute>`) by field uid. */
export function serverProblems(
  problems: readonly { field: string; problem: string }[],
  draft: readonly DraftField[],
): { byField: Map<string, string[]>; rest: string[] } {
  const byField = new Map<string, string[]>();
  const rest: string[] = [];
  for (const { field, problem } of problems) {
    const m = /^fields\.(\d+)(?:\.(.+))?$/.exec(field);
    const f = m ? draft[Number(m[1])] : undefined;
    if (!f) {
      rest.push(field ? `${field}: ${problem}` : problem);
      continue;
    }
    const text = m?.[2] ? `${m[2]}: ${problem}` : problem;
    byField.set(f.uid, [...(byField.get(f.uid) ?? []), text]);
  }
  return { byField, rest };
}

type Json = Record<string, unknown>;

/** The JSON Schema (2020-12) of the custom values, as the server compiles it. */
export function compileJsonSchema(fields: readonly FieldDto[]): Json {
  const properties: Json = {};
  const required: string[] = [];
  for (const f of fields) {
    if (f.archived) continue;
    const p: Json = { title: f.label.en ? f.label.en : (f.label['zh-CN'] ?? '') };
    switch (f.type) {
      case 'text':
      case 'long_text':
      case 'phone':
      case 'email':
        p.type = 'string';
        p.maxLength = f.max_length ?? defaultMaxLength(f.type);
        if (f.min_length != null) p.minLength = f.min_length;
        if (f.pattern != null) p.pattern = f.pattern;
        if (f.type === 'email') p.format = 'email';
        break;
      case 'integer':
      case 'decimal':
        p.type = f.type === 'integer' ? 'integer' : 'number';
        if (f.minimum != null) p.minimum = f.minimum;
        if (f.maximum != null) p.maximum = f.maximum;
        break;
      case 'date':
        p.type = 'string';
        p.format = 'date';
        break;
      case 'boolean':
        p.type = 'boolean';
        break;
      case 'single_select':
        p.type = 'string';
        p.enum = (f.options ?? []).map((o) => o.value);
        break;
      case 'multi_select':
        p.type = 'array';
        p.uniqueItems = true;
        p.items = { type: 'string', enum: (f.options ?? []).map((o) => o.value) };
        break;
    }
    properties[f.key] = p;
    if (f.required) required.push(f.key);
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties,
    required,
    additionalProperties: false,
  };
}

const WIDGETS: Partial<Record<FieldType, string>> = {
  long_text: 'textarea',
  date: 'date',
  boolean: 'checkbox',
  single_select: 'select',
  multi_select: 'checkboxes',
  email: 'email',
  phone: 'tel',
};

/** The react-jsonschema-form UI schema, as the server compiles it. */
export function compileUiSchema(fields: readonly FieldDto[]): Json {
  const active = fields.filter((f) => !f.archived);
  const ui: Json = { 'ui:order': active.map((f) => f.key) };
  for (const f of active) {
    const u: Json = {};
    const w = WIDGETS[f.type];
    if (w) u['ui:widget'] = w;
    if (f.help) u['ui:help'] = f.help.en ? f.help.en : f.help['zh-CN'];
    u['ui:options'] = {
      labels: f.label,
      help: f.help ?? null,
      memberVisible: f.member_visible ?? true,
      memberEditable: f.member_editable ?? false,
      enumLabels: Object.fromEntries((f.options ?? []).map((o) => [o.value, o.label])),
    };
    ui[f.key] = u;
  }
  return ui;
}

const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function pick(l: unknown, lang: Lang): string | undefined {
  if (!isObj(l)) return undefined;
  const mine = l[lang];
  const other = l[lang === 'en' ? 'zh-CN' : 'en'];
  if (typeof mine === 'string' && mine !== '') return mine;
  if (typeof other === 'string' && other !== '') return other;
  return undefined;
}

/**
 * The form one language renders: titles, option names and help from the UI schema's labels
 * in `lang` (the other language when one is missing), widgets react-jsonschema-form knows,
 * and only the fields in `only` when it is given (a member's editable fields).
 */
export function localize(
  jsonSchema: unknown,
  uiSchema: unknown,
  lang: Lang,
  only?: readonly string[],
): { schema: Json; uiSchema: Json } {
  const src = isObj(jsonSchema) ? jsonSchema : {};
  const uiSrc = isObj(uiSchema) ? uiSchema : {};
  const props = isObj(src.properties) ? src.properties : {};
  const keep = (k: string) => !only || only.includes(k);
  const properties: Json = {};
  const ui: Json = {};
  for (const [k, raw] of Object.entries(props)) {
    if (!keep(k) || !isObj(raw)) continue;
    const u = isObj(uiSrc[k]) ? uiSrc[k] : {};
    const opts = isObj(u['ui:options']) ? u['ui:options'] : {};
    const p: Json = { ...raw };
    p.title = pick(opts.labels, lang) ?? raw.title ?? k;
    const names = isObj(opts.enumLabels) ? opts.enumLabels : {};
    const oneOf = (values: unknown) =>
      Array.isArray(values)
        ? values.map((v) => ({ const: v, title: pick(names[String(v)], lang) ?? String(v) }))
        : undefined;
    if (Array.isArray(p.enum)) {
      p.oneOf = oneOf(p.enum);
      delete p.enum;
    }
    if (isObj(p.items) && Array.isArray(p.items.enum)) {
      const items: Json = { ...p.items, oneOf: oneOf(p.items.enum) };
      delete items.enum;
      p.items = items;
    }
    properties[k] = p;
    const out: Json = {};
    const widget = u['ui:widget'];
    if (widget === 'tel') out['ui:options'] = { inputType: 'tel' };
    else if (typeof widget === 'string') out['ui:widget'] = widget;
    const help = pick(opts.help, lang) ?? (typeof u['ui:help'] === 'string' ? u['ui:help'] : undefined);
    if (help) out['ui:help'] = help;
    ui[k] = out;
  }
  const order = Array.isArray(uiSrc['ui:order']) ? (uiSrc['ui:order'] as unknown[]).map(String) : [];
  ui['ui:order'] = [...order.filter((k) => k in properties), ...Object.keys(properties).filter((k) => !order.includes(k))];
  const required = Array.isArray(src.required) ? (src.required as unknown[]).map(String).filter((k) => k in properties) : [];
  // No `$schema`: the browser's validator speaks draft-07, and the server checks 2020-12.
  return { schema: { type: 'object', properties, required }, uiSchema: ui };
}

/**
 * Options become `oneOf: [{ const }]` (for their labels), and react-jsonschema-form would
 * otherwise take the first option's `const` as the field's default: a required select would
 * quietly start on its first option, and "required" would never make anyone choose.
 */
export const DEFAULT_FORM_STATE = { constAsDefaults: 'never' } as const;

/** react-jsonschema-form's error shape: `{ key: { __errors: [...] } }`. */
export type ErrorTree = Record<string, { __errors: string[] }>;

/**
 * Splits a server's field problems into those on custom values (`custom.<key>...`, as an
 * error tree for the custom form) and the others.
 */
export function splitCustomProblems(
  problems: readonly { field: string; problem: string }[],
  prefix = 'custom.',
): { custom: ErrorTree; other: { field: string; problem: string }[] } {
  const custom: ErrorTree = {};
  const other: { field: string; problem: string }[] = [];
  for (const p of problems) {
    if (p.field.startsWith(prefix)) {
      const key = p.field.slice(prefix.length).split('.')[0] ?? '';
      (custom[key] ??= { __errors: [] }).__errors.push(p.problem);
    } else other.push(p);
  }
  return { custom, other };
}

/** Drops empty values the form leaves behind (`''`, `undefined`), so they are not sent. */
export function cleanValues(values: unknown): Json {
  if (!isObj(values)) return {};
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== ''));
}

/** A whole date as typed (`2026-03-01`), if it is one. */
export function typedDate(text: string): string | undefined {
  const s = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return undefined;
  const d = dayjs(s);
  return d.isValid() && d.format('YYYY-MM-DD') === s ? s : undefined;
}

