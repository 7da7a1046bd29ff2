// Publishing fields that existing members do not satisfy: fill them with defaults, or
// apply the new rules to new writes only.
import { useState } from 'react';
import { Input, InputNumber, Modal, Radio, Select, Space } from 'antd';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { ImpactDetail } from './CheckSummary';
import type { FieldDto } from './schema';
import { nameIn } from '../common/format';

type Report = Schemas['ChangeReport'];

export function ConflictModal({
  report,
  draft,
  busy,
  onCancel,
  onPublish,
}: {
  report: Report;
  draft: FieldDto[];
  busy: boolean;
  onCancel: () => void;
  onPublish: (v: { on_conflict: Schemas['OnConflict']; defaults: Record<string, unknown> }) => void;
}) {
  const { t, i18n } = useTranslation();
  const [choice, setChoice] = useState<'defaults' | 'new_writes_only'>('defaults');
  const keys = Object.keys(report.by_field);
  const [defaults, setDefaults] = useState<Record<string, unknown>>({});
  const missing = choice === 'defaults' && keys.some((k) => defaults[k] === undefined || defaults[k] === '');
  return (
    <Modal
      open
      title={t('fields.conflictTitle', { count: report.affected_members })}
      onCancel={onCancel}
      okText={t('fields.publish')}
      cancelText={t('common.cancel')}
      okButtonProps={{ disabled: missing, loading: busy }}
      onOk={() => onPublish(choice === 'defaults' ? { on_conflict: 'refuse', defaults } : { on_conflict: 'new_writes_only', defaults: {} })}
    >
      <ImpactDetail report={report} />
      <Radio.Group value={choice} onChange={(e) => setChoice(e.target.value as typeof choice)} style={{ marginTop: 16 }}>
        <Space direction="vertical">
          <Radio value="defaults">{t('fields.useDefaults')}</Radio>
          <Radio value="new_writes_only">{t('fields.newWritesOnly')}</Radio>
        </Space>
      </Radio.Group>
      {choice === 'defaults' &&
        keys.map((k) => {
          const f = draft.find((d) => d.key === k);
          const label = f ? nameIn(f.label, i18n.language) || k : k;
          return (
            <div key={k} className="designer-item" style={{ marginTop: 12 }}>
              <label htmlFor={`default_${k}`}>{t('fields.defaultFor', { field: label })}</label>
              <DefaultInput id={`default_${k}`} field={f} value={defaults[k]} onChange={(v) => setDefaults((d) => ({ ...d, [k]: v }))} />
            </div>
          );
        })}
    </Modal>
  );
}

function DefaultInput({ id, field, value, onChange }: { id: string; field?: FieldDto; value: unknown; onChange: (v: unknown) => void }) {
  const { t, i18n } = useTranslation();
  const opts = (field?.options ?? []).map((o) => ({ value: o.value, label: nameIn(o.label, i18n.language) || o.value }));
  switch (field?.type) {
    case 'integer':
    case 'decimal':
      return <InputNumber id={id} style={{ width: '100%' }} precision={field.type === 'integer' ? 0 : undefined} value={value as number | undefined} onChange={(v) => onChange(v ?? undefined)} />;
    case 'boolean':
      return <Select id={id} style={{ width: '100%' }} value={value as boolean | undefined} onChange={onChange} options={[{ value: true, label: t('members.yes') }, { value: false, label: t('members.no') }]} />;
    case 'single_select':
      return <Select id={id} style={{ width: '100%' }} value={value as string | undefined} onChange={onChange} options={opts} />;
    case 'multi_select':
      return <Select id={id} mode="multiple" style={{ width: '100%' }} value={(value as string[] | undefined) ?? []} onChange={onChange} options={opts} />;
    case 'date':
      return <Input id={id} type="date" value={(value as string | undefined) ?? ''} onChange={(e) => onChange(e.target.value)} />;
    default:
      return <Input id={id} value={(value as string | undefined) ?? ''} onChange={(e) => onChange(e.target.value)} />;
  }
}
