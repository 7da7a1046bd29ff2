// The custom-field forms' validator for react-jsonschema-form: a small interpreter of the
// JSON Schema keywords the server's member-field schemas use (`core::fields::json_schema`),
// with Ajv's messages and error shapes, so the forms read and behave as they did with
// @rjsf/validator-ajv8. Ajv compiles each schema into a function with `new Function`, which
// the console's Content-Security-Policy forbids (no 'unsafe-eval'); this never does.
//
// Keywords: type, properties, required, additionalProperties, enum, const, minLength,
// maxLength, pattern, format (date, email, date-time), minimum, maximum, exclusiveMinimum,
// exclusiveMaximum, multipleOf, items, minItems, maxItems, uniqueItems, allOf, anyOf, oneOf,
// not. Annotations (title, description, default, $schema ...) are ignored, and so is any
// other keyword.
import {
  createErrorHandler,
  deepEquals,
  getDefaultFormState,
  ID_KEY,
  JUNK_OPTION_ID,
  toErrorList,
  toErrorSchema,
  unwrapErrorHandler,
  validationDataMerge,
  type CustomValidator,
  type ErrorSchema,
  type ErrorTransformer,
  type RJSFSchema,
  type RJSFValidationError,
  type UiSchema,
  type ValidationData,
  type ValidatorType,
} from '@rjsf/utils';

/** One problem, shaped as Ajv reports it. */
export interface SchemaError {
  /** JSON pointer of the value (`/likes/1`). */
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message: string;
}

type Schema = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function hasType(v: unknown, type: string): boolean {
  switch (type) {
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    default:
      return typeOf(v) === type;
  }
}

const DATE = /^(\d\d\d\d)-(\d\d)-(\d\d)$/;
const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function isDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month >= 1 && month <= 12 && day >= 1 && day <= (month === 2 && leap ? 29 : DAYS[month]!);
}
// ajv-formats' "fast" e-mail and date-time checks.
const EMAIL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i;
const DATE_TIME = /^\d\d\d\d-[0-1]\d-[0-3]\d[t\s](?:[0-2]\d:[0-5]\d:[0-5]\d|23:59:60)(?:\.\d+)?(?:z|[+-]\d\d(?::?\d\d)?)$/i;
const FORMATS: Record<string, (s: string) => boolean> = {
  date: isDate,
  email: (s) => EMAIL.test(s),
  'date-time': (s) => DATE_TIME.test(s) && isDate(s.slice(0, 10)),
};

const patterns = new Map<string, RegExp | null>();
function pattern(source: string): RegExp | null {
  if (!patterns.has(source)) {
    try {
      patterns.set(source, new RegExp(source, 'u'));
    } catch {
      patterns.set(source, null);
    }
  }
  return patterns.get(source)!;
}

/** The length Ajv counts: code points, not UTF-16 units. */
const length = (s: string) => [...s].length;

const pointer = (path: string, key: string | number) => `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;

/** Every problem of `value` against `schema` (all of them, as Ajv's `allErrors`). */
export function check(schema: unknown, value: unknown, path = '', schemaPath = '#'): SchemaError[] {
  if (schema === true || schema === undefined) return [];
  if (schema === false) return [{ instancePath: path, schemaPath, keyword: 'false schema', params: {}, message: 'boolean schema is false' }];
  if (!isObject(schema)) return [];
  const s = schema as Schema;
  const out: SchemaError[] = [];
  const fail = (keyword: string, params: Record<string, unknown>, message: string, at = path) =>
    out.push({ instancePath: at, schemaPath: `${schemaPath}/${keyword}`, keyword, params, message });

  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => hasType(value, t))) {
      fail('type', { type: types.join(',') }, `must be ${types.join(',')}`);
      return out;
    }
  }
  if (s.const !== undefined && !deepEquals(value, s.const)) fail('const', { allowedValue: s.const }, 'must be equal to constant');
  if (Array.isArray(s.enum) && !s.enum.some((e) => deepEquals(e, value))) {
    fail('enum', { allowedValues: s.enum }, 'must be equal to one of the allowed values');
  }

  if (typeof value === 'string') {
    if (typeof s.maxLength === 'number' && length(value) > s.maxLength) {
      fail('maxLength', { limit: s.maxLength }, `must NOT have more than ${s.maxLength} characters`);
    }
    if (typeof s.minLength === 'number' && length(value) < s.minLength) {
      fail('minLength', { limit: s.minLength }, `must NOT have fewer than ${s.minLength} characters`);
    }
    if (typeof s.pattern === 'string') {
      const re = pattern(s.pattern);
      if (re && !re.test(value)) fail('pattern', { pattern: s.pattern }, `must match pattern "${s.pattern}"`);
    }
    if (typeof s.format === 'string') {
      const ok = FORMATS[s.format];
      if (ok && !ok(value)) fail('format', { format: s.format }, `must match format "${s.format}"`);
    }
  }

  if (typeof value === 'number') {
    const bound = (keyword: string, limit: unknown, comparison: string, holds: (l: number) => boolean) => {
      if (typeof limit === 'number' && !holds(limit)) fail(keyword, { comparison, limit }, `must be ${comparison} ${limit}`);
    };
    bound('maximum', s.maximum, '<=', (l) => value <= l);
    bound('minimum', s.minimum, '>=', (l) => value >= l);
    bound('exclusiveMaximum', s.exclusiveMaximum, '<', (l) => value < l);
    bound('exclusiveMinimum', s.exclusiveMinimum, '>', (l) => value > l);
    if (typeof s.multipleOf === 'number' && s.multipleOf > 0) {
      const q = value / s.multipleOf;
      if (Math.abs(q - Math.round(q)) > 1e-9) fail('multipleOf', { multipleOf: s.multipleOf }, `must be multiple of ${s.multipleOf}`);
    }
  }

  if (Array.isArray(value)) {
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) {
      fail('maxItems', { limit: s.maxItems }, `must NOT have more than ${s.maxItems} items`);
    }
    if (typeof s.minItems === 'number' && value.length < s.minItems) {
      fail('minItems', { limit: s.minItems }, `must NOT have fewer than ${s.minItems} items`);
    }
    if (s.uniqueItems === true) {
      // Where Ajv looks, so the same pair is named: from the end, a scalar against the
      // nearest later copy; anything else against every earlier item.
      if (value.every((v) => v === null || typeof v !== 'object')) {
        const seen = new Map<string, number>();
        for (let i = value.length; i--; ) {
          const key = `${typeof value[i]}:${String(value[i])}`;
          const j = seen.get(key);
          if (j !== undefined) {
            fail('uniqueItems', { i, j }, `must NOT have duplicate items (items ## ${j} and ${i} are identical)`);
            break;
          }
          seen.set(key, i);
        }
      } else {
        outer: for (let i = value.length; i--; ) {
          for (let j = i; j--; ) {
            if (deepEquals(value[i], value[j])) {
              fail('uniqueItems', { i, j }, `must NOT have duplicate items (items ## ${j} and ${i} are identical)`);
              break outer;
            }
          }
        }
      }
    }
    if (s.items !== undefined && !Array.isArray(s.items)) {
      value.forEach((item, i) => out.push(...check(s.items, item, pointer(path, i), `${schemaPath}/items`)));
    }
  }

  if (isObject(value)) {
    const props = isObject(s.properties) ? s.properties : {};
    if (Array.isArray(s.required)) {
      for (const key of s.required as string[]) {
        if (value[key] === undefined) fail('required', { missingProperty: key }, `must have required property '${key}'`);
      }
    }
    for (const [key, sub] of Object.entries(props)) {
      if (value[key] !== undefined) out.push(...check(sub, value[key], pointer(path, key), `${schemaPath}/properties/${key}`));
    }
    if (s.additionalProperties !== undefined && s.additionalProperties !== true) {
      for (const key of Object.keys(value)) {
        if (key in props) continue;
        if (s.additionalProperties === false) {
          fail('additionalProperties', { additionalProperty: key }, 'must NOT have additional properties');
        } else {
          out.push(...check(s.additionalProperties, value[key], pointer(path, key), `${schemaPath}/additionalProperties`));
        }
      }
    }
  }

  if (Array.isArray(s.allOf)) s.allOf.forEach((sub, i) => out.push(...check(sub, value, path, `${schemaPath}/allOf/${i}`)));
  // As Ajv with allErrors: a failed anyOf or oneOf reports each branch's problems, then itself.
  if (Array.isArray(s.anyOf)) {
    const branches = s.anyOf.map((sub, i) => check(sub, value, path, `${schemaPath}/anyOf/${i}`));
    if (!branches.some((b) => b.length === 0)) {
      out.push(...branches.flat());
      fail('anyOf', {}, 'must match a schema in anyOf');
    }
  }
  if (Array.isArray(s.oneOf)) {
    const branches = s.oneOf.map((sub, i) => check(sub, value, path, `${schemaPath}/oneOf/${i}`));
    const passing = branches.flatMap((b, i) => (b.length === 0 ? [i] : []));
    if (passing.length === 0) {
      out.push(...branches.flat());
      fail('oneOf', { passingSchemas: null }, 'must match exactly one schema in oneOf');
    } else if (passing.length > 1) {
      fail('oneOf', { passingSchemas: passing.slice(0, 2) }, 'must match exactly one schema in oneOf');
    }
  }
  if (s.not !== undefined && check(s.not, value, path).length === 0) fail('not', {}, 'must NOT be valid');
  return out;
}

/** Ajv's problems as react-jsonschema-form's errors (what `@rjsf/validator-ajv8` does). */
function toRjsfErrors(errors: SchemaError[], schema: Schema): RJSFValidationError[] {
  return errors.map((e) => {
    let property = e.instancePath.replace(/\//g, '.');
    let message = e.message;
    let stack = `${property} ${message}`.trim();
    const named = (e.params.missingProperty ?? e.params.additionalProperty) as string | undefined;
    if (named !== undefined) {
      const title = ((schema.properties as Record<string, Schema> | undefined)?.[named]?.title as string | undefined) ?? undefined;
      if (title) message = message.replace(`'${named}'`, `'${title}'`);
      stack = message;
    }
    if (e.params.missingProperty !== undefined) property = property ? `${property}.${named}` : named!;
    return { name: e.keyword, property, message, params: e.params, stack, schemaPath: e.schemaPath };
  });
}

class InterpretingValidator implements ValidatorType {
  rawValidation<Result = SchemaError>(schema: RJSFSchema, formData?: unknown): { errors?: Result[]; validationError?: Error } {
    const errors = check(schema, formData);
    return { errors: errors.length ? (errors as Result[]) : undefined };
  }

  validateFormData(
    formData: unknown,
    schema: RJSFSchema,
    customValidate?: CustomValidator,
    transformErrors?: ErrorTransformer,
    uiSchema?: UiSchema,
  ): ValidationData<unknown> {
    let errors = toRjsfErrors(check(schema, formData), schema as Schema);
    if (typeof transformErrors === 'function') errors = transformErrors(errors, uiSchema);
    const errorSchema = toErrorSchema(errors) as ErrorSchema<unknown>;
    if (typeof customValidate !== 'function') return { errors, errorSchema };
    const full = getDefaultFormState(this, schema, formData, schema, true);
    const user = unwrapErrorHandler(customValidate(full, createErrorHandler(full), uiSchema));
    return validationDataMerge({ errors, errorSchema }, user);
  }

  toErrorList(errorSchema?: ErrorSchema, fieldPath: string[] = []): RJSFValidationError[] {
    return toErrorList(errorSchema, fieldPath);
  }

  isValid(schema: RJSFSchema, formData: unknown): boolean {
    if ((schema as Schema)[ID_KEY] === JUNK_OPTION_ID) return false;
    return check(schema, formData).length === 0;
  }
}

/** The validator the custom-field forms use. */
export const validator: ValidatorType = new InterpretingValidator();
