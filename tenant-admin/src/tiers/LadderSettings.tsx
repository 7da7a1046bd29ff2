// The ladder's settings in the tier editor: metric, window, retention and demotion.
import { Card, Col, Form, InputNumber, Row, Select } from 'antd';
import { useTranslation } from 'react-i18next';
import type { Metric } from './ladder';
import { currencySymbol } from '../common/format';

export function LadderSettings({ currency }: { currency: string }) {
  const { t } = useTranslation();
  const kind = Form.useWatch('window_kind');
  const metric = Form.useWatch('metric') as Metric | undefined;
  return (
    <Card size="small" title={t('tiers.editor.rules')} style={{ marginBottom: 16 }}>
      <Row gutter={16}>
        <Col xs={24} md={8}>
          <Form.Item name="metric" label={t('tiers.editor.metric')} extra={metric === 'spend' ? t('tiers.editor.spendIn', { currency: currencySymbol(currency) }) : undefined}>
            <Select
              data-testid="tiers-metric"
              options={(['points_earned', 'spend', 'visits'] as const).map((m) => ({ value: m, label: t(`tiers.metric.${m}`) }))}
            />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="window_kind" label={t('tiers.editor.window')}>
            <Select
              options={(['rolling', 'calendar_year', 'since_joining'] as const).map((k) => ({ value: k, label: t(`tiers.window.${k}`) }))}
            />
          </Form.Item>
        </Col>
        {kind === 'rolling' && (
          <Col xs={24} md={8}>
            <Form.Item name="window_days" label={t('tiers.editor.windowDays')}>
              <InputNumber min={1} max={3660} style={{ width: '100%' }} addonAfter={t('tiers.editor.days')} />
            </Form.Item>
          </Col>
        )}
        <Col xs={24} md={8}>
          <Form.Item name="retention_days" label={t('tiers.editor.retention')} extra={t('tiers.editor.retentionHelp')}>
            <InputNumber min={0} max={3660} style={{ width: '100%' }} addonAfter={t('tiers.editor.days')} />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="demotion" label={t('tiers.editor.demotion')}>
            <Select
              options={(['one_rung', 'direct'] as const).map((d) => ({ value: d, label: t(`tiers.demotion.${d}`) }))}
            />
          </Form.Item>
        </Col>
      </Row>
    </Card>
  );
}
