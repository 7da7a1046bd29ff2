// The tier history export: everyone's or one member's, between two days, as CSV or Excel.
import { useState } from 'react';
import { App, Button, Card, Input, Select, Space } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { errorText } from '../common/forms';
import { saveBlob } from '../common/download';
import { exportTierHistory, findMembers } from './api';

interface Found {
  value: string;
  label: string;
}

/** Tier history as CSV or Excel: everyone's or one member's, between two days. */
export function ExportCard() {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const [memberId, setMemberId] = useState('');
  const [found, setFound] = useState<Found[]>([]);
  async function find(q: string) {
    if (q.trim().length < 2) return;
    try {
      const r = await findMembers(q.trim());
      setFound(
        r.matches.map((m) => ({
          value: m.id,
          label: [m.name, m.card_number, m.phone_masked].filter(Boolean).join(' · '),
        })),
      );
    } catch {
      setFound([]);
    }
  }
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [exporting, setExporting] = useState<'csv' | 'xlsx'>();
  async function exportAs(format: 'csv' | 'xlsx') {
    setExporting(format);
    try {
      const query = {
        layout: 'people' as const,
        lang: i18n.language,
        ...(memberId.trim() ? { member_id: memberId.trim() } : {}),
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
      };
      saveBlob(await exportTierHistory(format, query), `tier-history.${format}`);
    } catch (err) {
      void message.error(errorText(t, err));
    } finally {
      setExporting(undefined);
    }
  }
  return (
    <Card size="small" title={t('tiers.export.title')} style={{ marginBottom: 16 }} data-testid="tiers-export">
      <Space wrap>
        <Select
          showSearch
          allowClear
          filterOption={false}
          placeholder={t('tiers.export.member')}
          aria-label={t('tiers.export.member')}
          value={memberId || undefined}
          options={found}
          onSearch={(q) => void find(q)}
          onChange={(v?: string) => setMemberId(v ?? '')}
          notFoundContent={null}
          style={{ width: 320, maxWidth: '100%' }}
          data-testid="tiers-export-member"
        />
        <Input type="date" aria-label={t('tiers.export.from')} value={from} onChange={(e) => setFrom(e.target.value)} />
        <Input type="date" aria-label={t('tiers.export.to')} value={to} onChange={(e) => setTo(e.target.value)} />
        <Button icon={<DownloadOutlined />} loading={exporting === 'csv'} onClick={() => void exportAs('csv')} data-testid="tiers-export-csv">
          {t('tiers.export.csv')}
        </Button>
        <Button icon={<DownloadOutlined />} loading={exporting === 'xlsx'} onClick={() => void exportAs('xlsx')} data-testid="tiers-export-xlsx">
          {t('tiers.export.xlsx')}
        </Button>
      </Space>
    </Card>
  );
}
