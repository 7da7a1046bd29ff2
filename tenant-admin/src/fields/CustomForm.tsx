import { forwardRef, useMemo, type ComponentType, type FormEvent } from 'react';
import Form, { Widgets } from '@rjsf/antd';
import type { WidgetProps } from '@rjsf/utils';
import type { IChangeEvent } from '@rjsf/core';
import type RjsfForm from '@rjsf/core';
import { validator } from './validator';
import { useTranslation } from 'react-i18next';
import { DEFAULT_FORM_STATE, localize, typedDate, type ErrorTree, type Lang } from './schema';
import './fields.css';

export type CustomFormHandle = RjsfForm;

const BaseDateWidget = Widgets.DateWidget as ComponentType<WidgetProps>;

/**
 * antd's date picker keeps a typed date to itself until the field loses focus or Enter is
 * pressed, so a date typed and saved at once was lost. This one hands the value to the form
 * as soon as what is typed is a whole date.
 */
function DateWidget(props: WidgetProps) {
  const { onChange, value } = props;
  const onInput = (e: FormEvent<HTMLDivElement>) => {
    const target = e.target as HTMLInputElement;
    if (target.tagName !== 'INPUT') return;
    const date = typedDate(target.value);
    if (date && date !== value) onChange(date);
  };
  return (
    <div onInput={onInput}>
      <BaseDateWidget {...props} />
    </div>
  );
}

const WIDGETS = { DateWidget };

/**
 * A business's custom member fields, rendered with react-jsonschema-form in the console's
 * language: the designer's preview, the member page, the counter and the portal all use it,
 * so every one shows the same form. It has no submit button: the page around it checks it
 * with `ref.current.validateForm()` and sends the values with its own.
 */
export const CustomForm = forwardRef<
  CustomFormHandle,
  {
    jsonSchema: unknown;
    uiSchema: unknown;
    /** Only these fields (e.g. what members may edit). */
    only?: readonly string[];
    value: Record<string, unknown>;
    onChange?: (v: Record<string, unknown>) => void;
    /** Server problems by field key. */
    errors?: ErrorTree;
    disabled?: boolean;
    /** Prefix of the inputs' ids (`<prefix>_<key>`). */
    idPrefix?: string;
    /** The language to render in; the console's by default. */
    lang?: Lang;
  }
>(function CustomForm({ jsonSchema, uiSchema, only, value, onChange, errors, disabled, idPrefix = 'custom', lang: forced }, ref) {
  const { t, i18n } = useTranslation();
  const lang: Lang = forced ?? (i18n.language === 'en' ? 'en' : 'zh-CN');
  const form = useMemo(() => localize(jsonSchema, uiSchema, lang, only), [jsonSchema, uiSchema, lang, only]);
  const ui = useMemo(
    () => ({ ...form.uiSchema, 'ui:submitButtonOptions': { norender: true } }),
    [form.uiSchema],
  );
  if (Object.keys(form.schema.properties as object).length === 0) return null;
  return (
    <div className="custom-form">
      <Form
        ref={ref}
        schema={form.schema}
        uiSchema={ui}
        formData={value}
        validator={validator}
        experimental_defaultFormStateBehavior={DEFAULT_FORM_STATE}
        // The problems show under their fields; without a handler the form logs them as errors.
        onError={() => {}}
        // A missing required value reads as the rest of the console's forms do.
        transformErrors={(list) => list.map((e) => (e.name === 'required' ? { ...e, message: t('validation.required') } : e))}
        widgets={WIDGETS}
        idPrefix={idPrefix}
        onChange={(e: IChangeEvent) => onChange?.((e.formData ?? {}) as Record<string, unknown>)}
        extraErrors={errors as never}
        disabled={disabled}
        showErrorList={false}
        noHtml5Validate
        formContext={{ layout: 'vertical' }}
      />
    </div>
  );
});
