// The tier history export: everyone's or one member's, between two days, as CSV or Excel.
import { useState } from 'react';
import { App, Button, Card, Input, Space } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { errorText } from '../common/forms';
import { saveBlob } from '../common/download';
import { exportTierHistory } from './api';

/** Tier history as CSV or Excel: everyone's or one member's, between two days. */
export function ExportCard() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [memberId, setMemberId] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [exporting, setExporting] = useState<'csv' | 'xlsx'>();
  async function exportAs(format: 'csv' | 'xlsx') {
    setExporting(format);
    try {
      const query = {
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
        <Input
          placeholder={t('tiers.export.member')}
          aria-label={t('tiers.export.member')}
          value={memberId}
          onChange={(e) => setMemberId(e.target.value)}
          style={{ width: 320 }}
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
