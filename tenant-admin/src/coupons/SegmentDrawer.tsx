// Coupons of a template for every member a search finds: the filter (tags, tier, join and
// birth dates, as the member search takes them), and each run with its progress bar while
// the background job works through the members.
import { useState } from 'react';
import { App, Button, Col, Drawer, Form, Input, Progress, Row, Select, Table, Tag, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { toSearch, type SearchValues } from '../members/search';
import {
  couponKeys,
  fetchSegmentIssues,
  issueToSegment,
  segmentKeys,
  segmentPercent,
  type CouponTemplate,
  type SegmentIssue,
} from './api';

const ITEMS = ['tags', 'tier', 'joined_from', 'joined_to', 'birthday_from', 'birthday_to'] as const;

interface SegmentForm extends SearchValues {
  tier?: string;
}

export function SegmentDrawer({ template, onClose }: { template: CouponTemplate; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const { can, me } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<SegmentForm>();
  const [error, setError] = useState<string>();
  const runs = useQuery({
    queryKey: segmentKeys(template.id),
    queryFn: () => fetchSegmentIssues(template.id),
    refetchInterval: (q) => (q.state.data?.some((r) => r.status === 'running') ? 2000 : false),
  });
  const start = useMutation({
    mutationFn: (v: SegmentForm) => {
      // Sort and paging do not apply to a segment; the server ignores them.
      const filter = toSearch(v, []);
      const tier = v.tier?.trim();
      return issueToSegment(template.id, {
        filter: { ...filter, ...(tier ? { tier } : {}) },
        idempotency_key: crypto.randomUUID(),
      });
    },
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: segmentKeys(template.id) });
      void qc.invalidateQueries({ queryKey: couponKeys.templates() });
      void message.success(t('coupons.segment.started', { count: r.matched }));
    },
    onError: (err) =>
      setError(applyServerErrors(t, form, err, ITEMS, Object.fromEntries(ITEMS.map((k) => [`filter.${k}`, k])))),
  });
  const date = <Input type="date" />;
  return (
    <Drawer open width={720} title={t('coupons.segment.title', { name: template.name })} onClose={onClose} data-testid="coupon-segment">
      <Typography.Paragraph type="secondary">{t('coupons.segment.help')}</Typography.Paragraph>
      {can('rewards:manage') && (
        <Form<SegmentForm>
          form={form}
          layout="vertical"
          onFinish={(v) => {
            setError(undefined);
            start.mutate(v);
          }}
        >
          <Row gutter={12}>
            <Col xs={24} sm={12}>
              <Form.Item name="tags" label={t('members.f.tags')}>
                <Select mode="tags" open={false} suffixIcon={null} tokenSeparators={[',', '，']} data-testid="coupon-segment-tags" />
              </Form.Item>
            </Col>
            <Col xs={24} sm={12}>
              <Form.Item name="tier" label={t('coupons.segment.tier')}>
                <Input allowClear maxLength={32} />
              </Form.Item>
            </Col>
            <Col xs={12} sm={6}>
              <Form.Item name="joined_from" label={t('members.joinedFrom')}>{date}</Form.Item>
            </Col>
            <Col xs={12} sm={6}>
              <Form.Item name="joined_to" label={t('members.joinedTo')}>{date}</Form.Item>
            </Col>
            <Col xs={12} sm={6}>
              <Form.Item name="birthday_from" label={t('members.birthdayFrom')}>{date}</Form.Item>
            </Col>
            <Col xs={12} sm={6}>
              <Form.Item name="birthday_to" label={t('members.birthdayTo')}>{date}</Form.Item>
            </Col>
          </Row>
          <Button type="primary" htmlType="submit" loading={start.isPending} data-testid="coupon-segment-submit">
            {t('coupons.segment.start')}
          </Button>
        </Form>
      )}
      {error && (
        <Typography.Paragraph type="danger" role="alert" style={{ marginTop: 8 }} data-testid="coupon-segment-error">
          {error}
        </Typography.Paragraph>
      )}
      <Table<SegmentIssue>
        size="small"
        rowKey="id"
        pagination={false}
        style={{ marginTop: 16 }}
        loading={runs.isPending}
        dataSource={runs.data ?? []}
        locale={{ emptyText: runs.isError ? errorText(t, runs.error) : t('coupons.segment.none') }}
        columns={[
          {
            title: t('coupons.segment.at'),
            dataIndex: 'created_at',
            render: (v: string) => formatDateTime(v, i18n.language, me?.tenant.time_zone),
          },
          {
            title: t('coupons.segment.progress'),
            key: 'progress',
            render: (_, r) => (
              <div style={{ minWidth: 160 }}>
                <Progress
                  percent={segmentPercent(r)}
                  size="small"
                  status={r.status === 'running' ? 'active' : r.status === 'stopped' ? 'exception' : 'success'}
                  data-testid="coupon-segment-progress"
                />
                <Typography.Text type="secondary">
                  {t('coupons.segment.counts', { done: r.done, matched: r.matched })}
                </Typography.Text>
              </div>
            ),
          },
          { title: t('coupons.segment.issued'), dataIndex: 'issued', align: 'right' },
          { title: t('coupons.segment.skipped'), dataIndex: 'skipped', align: 'right' },
          {
            title: t('coupons.segment.state'),
            key: 'status',
            render: (_, r) => (
              <Tag color={r.status === 'done' ? 'green' : r.status === 'running' ? 'blue' : 'orange'}>
                {r.stop_reason ? t(`coupons.segment.stopped.${r.stop_reason}`) : t(`coupons.segment.statuses.${r.status}`)}
              </Tag>
            ),
          },
        ]}
      />
    </Drawer>
  );
}
