// One field in the field designer, opened: labels, key, type, required and member-editable,
// the type's limits or options, and help texts, with the problems found in it.
import type { ReactNode } from 'react';
import { Alert, Button, Input, InputNumber, Select, Space, Switch, Typography } from 'antd';
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Advanced, useCodeFromName } from '../common/Advanced';
import { CODE_RULES } from '../common/codes';
import { nameIn } from '../common/format';
import { FIELD_TYPES, isNumber, isSelect, isText, newOption, setType, type DraftField, type DraftOption, type FieldType } from './schema';

function Labeled({ id, label, children, extra }: { id: string; label: string; children: ReactNode; extra?: ReactNode }) {
  return (
    <div className="designer-item">
      <label htmlFor={id}>{label}</label>
      {children}
      {extra && <div className="designer-extra">{extra}</div>}
    </div>
  );
}

export function FieldEditor({
  field: f,
  index: i,
  disabled,
  problems,
  codeProblem,
  taken,
  onChange,
}: {
  field: DraftField;
  index: number;
  disabled: boolean;
  problems: string[];
  /** A problem with the key or an option value: 「高级」 opens. */
  codeProblem: boolean;
  /** The keys of the other fields (archived ones too). */
  taken: string[];
  onChange: (fn: (f: DraftField) => DraftField) => void;
}) {
  const { t, i18n } = useTranslation();
  const labelName = f.label['zh-CN'].trim() || f.label.en.trim();
  useCodeFromName(labelName, f.isNew && f.keyAuto === true, CODE_RULES.field, taken, (key) =>
    onChange((x) => (x.keyAuto && x.key !== key ? { ...x, key } : x)),
  );
  const setOption = (j: number, fn: (o: DraftOption) => DraftOption) =>
    onChange((x) => ({ ...x, options: x.options.map((p, k) => (k === j ? fn(p) : p)) }));
  const id = (s: string) => `designer_${i}_${s}`;
  const num = (v: number | string | null) => (v === null || v === '' ? undefined : Number(v));
  return (
    <div className="designer-editor">
      {problems.length > 0 && <Alert type="error" showIcon role="alert" message={problems.join('; ')} style={{ marginBottom: 12 }} />}
      <div className="designer-grid">
        <Labeled id={id('label_zh')} label={t('fields.labelZh')}>
          <Input id={id('label_zh')} value={f.label['zh-CN']} disabled={disabled} maxLength={100} onChange={(e) => onChange((x) => ({ ...x, label: { ...x.label, 'zh-CN': e.target.value } }))} />
        </Labeled>
        <Labeled id={id('label_en')} label={t('fields.labelEn')}>
          <Input id={id('label_en')} value={f.label.en} disabled={disabled} maxLength={100} onChange={(e) => onChange((x) => ({ ...x, label: { ...x.label, en: e.target.value } }))} />
        </Labeled>
        <Labeled id={id('type')} label={t('fields.type')}>
          <Select<FieldType>
            id={id('type')}
            value={f.type}
            disabled={disabled}
            style={{ width: '100%' }}
            showSearch
            optionFilterProp="label"
            onChange={(ty) => onChange((x) => setType(x, ty))}
            options={FIELD_TYPES.map((ty) => ({ value: ty, label: t(`fields.types.${ty}`) }))}
          />
        </Labeled>
      </div>
      <Space wrap size="large" style={{ margin: '8px 0 12px' }}>
        <label>
          <Switch size="small" checked={f.required} disabled={disabled} onChange={(v) => onChange((x) => ({ ...x, required: v }))} id={id('required')} /> {t('fields.required')}
        </label>
        <label>
          <Switch size="small" checked={f.member_visible} disabled={disabled} onChange={(v) => onChange((x) => ({ ...x, member_visible: v, member_editable: v && x.member_editable }))} id={id('member_visible')} />{' '}
          {t('fields.memberVisible')}
        </label>
        <label>
          <Switch size="small" checked={f.member_editable} disabled={disabled} onChange={(v) => onChange((x) => ({ ...x, member_editable: v, member_visible: v || x.member_visible }))} id={id('member_editable')} />{' '}
          {t('fields.memberEditable')}
        </label>
        {!f.member_visible && <Typography.Text type="secondary">{t('fields.staffOnly')}</Typography.Text>}
      </Space>
      {isNumber(f.type) && (
        <div className="designer-grid">
          <Labeled id={id('minimum')} label={t('fields.minimum')}>
            <InputNumber id={id('minimum')} style={{ width: '100%' }} value={f.minimum} disabled={disabled} onChange={(v) => onChange((x) => ({ ...x, minimum: num(v) }))} />
          </Labeled>
          <Labeled id={id('maximum')} label={t('fields.maximum')}>
            <InputNumber id={id('maximum')} style={{ width: '100%' }} value={f.maximum} disabled={disabled} onChange={(v) => onChange((x) => ({ ...x, maximum: num(v) }))} />
          </Labeled>
        </div>
      )}
      {isText(f.type) && (
        <div className="designer-grid">
          <Labeled id={id('min_length')} label={t('fields.minLength')}>
            <InputNumber id={id('min_length')} min={0} precision={0} style={{ width: '100%' }} value={f.min_length} disabled={disabled} onChange={(v) => onChange((x) => ({ ...x, min_length: num(v) }))} />
          </Labeled>
          <Labeled id={id('max_length')} label={t('fields.maxLength')}>
            <InputNumber id={id('max_length')} min={1} max={20000} precision={0} style={{ width: '100%' }} value={f.max_length} disabled={disabled} onChange={(v) => onChange((x) => ({ ...x, max_length: num(v) }))} />
          </Labeled>
          <Labeled id={id('pattern')} label={t('fields.pattern')} extra={t('fields.patternHelp')}>
            <Input id={id('pattern')} value={f.pattern ?? ''} disabled={disabled} maxLength={500} onChange={(e) => onChange((x) => ({ ...x, pattern: e.target.value || undefined }))} />
          </Labeled>
        </div>
      )}
      {isSelect(f.type) && (
        <div className="designer-options">
          <Typography.Text strong>{t('fields.options')}</Typography.Text>
          {f.options.map((o, j) => (
            <div key={j} className="designer-option">
              <OptionValueFromLabel option={o} others={f.options.filter((_, k) => k !== j).map((p) => p.value)} onValue={(value) => setOption(j, (p) => (p.valueAuto && p.value !== value ? { ...p, value } : p))} />
              <Input aria-label={t('fields.labelZh')} placeholder={t('fields.labelZh')} value={o.label['zh-CN']} disabled={disabled} onChange={(e) => onChange((x) => ({ ...x, options: x.options.map((p, k) => (k === j ? { ...p, label: { ...p.label, 'zh-CN': e.target.value } } : p)) }))} />
              <Input aria-label={t('fields.labelEn')} placeholder={t('fields.labelEn')} value={o.label.en} disabled={disabled} onChange={(e) => onChange((x) => ({ ...x, options: x.options.map((p, k) => (k === j ? { ...p, label: { ...p.label, en: e.target.value } } : p)) }))} />
              <Button type="text" danger icon={<DeleteOutlined />} disabled={disabled} aria-label={t('fields.removeOption')} onClick={() => onChange((x) => ({ ...x, options: x.options.filter((_, k) => k !== j) }))} />
            </div>
          ))}
          <Button size="small" icon={<PlusOutlined />} disabled={disabled} onClick={() => onChange((x) => ({ ...x, options: [...x.options, newOption(x)] }))}>
            {t('fields.addOption')}
          </Button>
        </div>
      )}
      <div className="designer-grid">
        <Labeled id={id('help_zh')} label={t('fields.helpZh')}>
          <Input id={id('help_zh')} value={f.help['zh-CN']} disabled={disabled} maxLength={200} onChange={(e) => onChange((x) => ({ ...x, help: { ...x.help, 'zh-CN': e.target.value } }))} />
        </Labeled>
        <Labeled id={id('help_en')} label={t('fields.helpEn')}>
          <Input id={id('help_en')} value={f.help.en} disabled={disabled} maxLength={200} onChange={(e) => onChange((x) => ({ ...x, help: { ...x.help, en: e.target.value } }))} />
        </Labeled>
      </div>
      <Advanced forceOpen={codeProblem} testId={`designer-advanced-${i}`}>
        <div className="designer-grid">
          <Labeled id={id('key')} label={t('fields.key')} extra={f.isNew ? t('advanced.codeAuto') : t('fields.keyFixed')}>
            <Input id={id('key')} value={f.key} disabled={disabled || !f.isNew} maxLength={40} onChange={(e) => onChange((x) => ({ ...x, key: e.target.value, keyAuto: false }))} />
          </Labeled>
        </div>
        {isSelect(f.type) && f.options.length > 0 && (
          <div className="designer-options">
            <Typography.Text>{t('advanced.optionValues')}</Typography.Text>
            {f.options.map((o, j) => (
              <div key={j} className="designer-option">
                <Input
                  aria-label={`${t('fields.optionValue')} ${nameIn(o.label, i18n.language) || j + 1}`}
                  addonBefore={nameIn(o.label, i18n.language) || j + 1}
                  value={o.value}
                  disabled={disabled || !o.isNew}
                  onChange={(e) => setOption(j, (p) => ({ ...p, value: e.target.value, valueAuto: false }))}
                />
              </div>
            ))}
          </div>
        )}
      </Advanced>
    </div>
  );
}

/** Keeps a new option's value made from its label (nothing shown). */
function OptionValueFromLabel({ option, others, onValue }: { option: DraftOption; others: string[]; onValue: (v: string) => void }) {
  useCodeFromName(option.label['zh-CN'].trim() || option.label.en.trim(), option.valueAuto === true, CODE_RULES.option, others, onValue);
  return null;
}
