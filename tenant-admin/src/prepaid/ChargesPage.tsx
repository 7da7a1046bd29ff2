// 收费记录: the money taken (and given back) at the counter for top-ups, memberships,
// renewals and passes, filtered by local days, fee standard, method and staff; with the
// totals by day and by method over every matching record, and the CSV of the same.
import { useState } from 'react';
import { App, Button, Card, Col, DatePicker, Row, Select, Space, Statistic, Table, Typography } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import dayjs, { type Dayjs } from 'dayjs';
import type { Schemas } from '../api/client';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { saveBlob } from '../common/download';
import { useAuth } from '../auth/AuthContext';
import { useActorName } from '../members/changes';
import { fetchStaff, staffKeys } from '../staff/api';
import { exportCharges, fetchCharges, fetchPlans, METHODS, prepaidKeys, type ChargeFilter } from './api';
import { addDays, totalsByDay, totalsByMethod, type Total } from './money';
import { MemberLink, missingFeature, PlanMissing, useMoney, useToday } from './parts';

type Charge = Schemas['ChargeView'];

export function ChargesPage() {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const { message } = App.useApp();
  const money = useMoney();
  const today = useToday();
  const actorName = useActorName();
  const [filter, setFilter] = useState<ChargeFilter>(() => ({ from: addDays(today, -29), to: today }));
  const [exporting, setExporting] = useState(false);
  const charges = useQuery({ queryKey: prepaidKeys.charges(filter), queryFn: () => fetchCharges(filter), retry: false });
  const plans = useQuery({ queryKey: prepaidKeys.plans(), queryFn: fetchPlans, retry: false });
  const staff = useQuery({ queryKey: staffKeys.list(), queryFn: fetchStaff, enabled: can('staff:read'), retry: false });
  if (missingFeature(charges.error)) {
    return (
      <>
        <Typography.Title level={3}>{t('prepaid.charges.title')}</Typography.Title>
        <PlanMissing feature="memberships" />
      </>
    );
  }
  const planName = (id?: string | null) => (id ? (plans.data?.find((p) => p.id === id)?.name ?? '…') : '—');
  const seenStaff = [...new Set((charges.data?.items ?? []).map((c) => c.staff))];
  const staffOptions = staff.data
    ? staff.data.map((s) => ({ value: `staff:${s.id}`, label: s.name }))
    : seenStaff.map((s) => ({ value: s, label: actorName(s) }));
  const set = (change: Partial<ChargeFilter>) => setFilter((f) => ({ ...f, ...change }));
  const range: [Dayjs | null, Dayjs | null] = [filter.from ? dayjs(filter.from) : null, filter.to ? dayjs(filter.to) : null];
  const d = charges.data;

  const download = async () => {
    setExporting(true);
    try {
      saveBlob(await exportCharges(filter), `charges-${filter.from ?? 'all'}-${filter.to ?? today}.csv`);
    } catch (err) {
      void message.error(errorText(t, err));
    } finally {
      setExporting(false);
    }
  };

  const totalColumns = (label: string, render: (k: string) => string) => [
    { title: label, dataIndex: 'key', render },
    { title: t('prepaid.charges.count'), dataIndex: 'count', align: 'right' as const },
    { title: t('prepaid.charges.amount'), dataIndex: 'amount', align: 'right' as const, render: (v: number) => money(v) },
  ];

  return (
    <div data-testid="charges-page">
      <div className="page-toolbar">
        <Typography.Title level={3} style={{ margin: 0 }}>
          {t('prepaid.charges.title')}
        </Typography.Title>
        <Button icon={<DownloadOutlined />} loading={exporting} onClick={() => void download()} data-testid="charges-export">
          {t('prepaid.charges.export')}
        </Button>
      </div>
      <Space wrap style={{ marginBottom: 16 }}>
        <DatePicker.RangePicker
          value={range}
          allowEmpty={[true, true]}
          onChange={(v) => set({ from: v?.[0]?.format('YYYY-MM-DD'), to: v?.[1]?.format('YYYY-MM-DD') })}
          data-testid="charges-range"
        />
        <Select
          allowClear
          placeholder={t('prepaid.charges.anyPlan')}
          style={{ minWidth: 160 }}
          value={filter.plan_id}
          onChange={(v?: string) => set({ plan_id: v })}
          options={(plans.data ?? []).map((p) => ({ value: p.id, label: p.name }))}
          data-testid="charges-plan"
        />
        <Select
          allowClear
          placeholder={t('prepaid.charges.anyMethod')}
          style={{ minWidth: 140 }}
          value={filter.method}
          onChange={(v?: string) => set({ method: v })}
          options={METHODS.map((m) => ({ value: m, label: t(`prepaid.method.${m}`) }))}
          data-testid="charges-method"
        />
        <Select
          allowClear
          placeholder={t('prepaid.charges.anyStaff')}
          style={{ minWidth: 140 }}
          value={filter.staff}
          onChange={(v?: string) => set({ staff: v })}
          options={staffOptions}
          data-testid="charges-staff"
        />
      </Space>
      {charges.isError && <Typography.Paragraph type="danger">{errorText(t, charges.error)}</Typography.Paragraph>}
      <Row gutter={[16, 16]} style={{ marginBottom: 16 }}>
        <Col xs={12} md={6}>
          <Card size="small">
            <div data-testid="charges-total">
              <Statistic title={t('prepaid.charges.total')} value={d ? money(d.amount) : '—'} />
            </div>
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <div data-testid="charges-count">
              <Statistic title={t('prepaid.charges.records')} value={d?.count ?? '—'} />
            </div>
          </Card>
        </Col>
      </Row>
      <Row gutter={[16, 16]} style={{ marginBottom: 16 }}>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('prepaid.charges.byDay')}>
            <Table<Total>
              size="small"
              rowKey="key"
              pagination={{ pageSize: 10, hideOnSinglePage: true }}
              dataSource={d ? totalsByDay(d.totals) : []}
              loading={charges.isPending}
              columns={totalColumns(t('prepaid.charges.day'), (k) => k)}
              data-testid="charges-by-day"
            />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('prepaid.charges.byMethod')}>
            <Table<Total>
              size="small"
              rowKey="key"
              pagination={false}
              dataSource={d ? totalsByMethod(d.totals) : []}
              loading={charges.isPending}
              columns={totalColumns(t('prepaid.topUp.method'), (k) => t(`prepaid.method.${k}`))}
              data-testid="charges-by-method"
            />
          </Card>
        </Col>
      </Row>
      <Card size="small" title={t('prepaid.charges.list', { shown: d?.items.length ?? 0, count: d?.count ?? 0 })}>
        <Table<Charge>
          size="small"
          rowKey="id"
          loading={charges.isPending}
          pagination={{ pageSize: 20, hideOnSinglePage: true, showSizeChanger: false }}
          scroll={{ x: 900 }}
          dataSource={d?.items ?? []}
          locale={{ emptyText: t('prepaid.charges.none') }}
          data-testid="charges-table"
          columns={[
            { title: t('prepaid.member.at'), dataIndex: 'at', render: (v: string) => formatDateTime(v, i18n.language, me?.tenant.time_zone) },
            {
              title: t('prepaid.ending.member'),
              dataIndex: 'member_id',
              render: (id: string, c: { member_name: string }) => <MemberLink id={id} name={c.member_name} />,
            },
            { title: t('prepaid.member.kind'), dataIndex: 'kind', render: (k: string) => t(`prepaid.charge.${k}`) },
            { title: t('prepaid.member.plan'), dataIndex: 'plan_id', render: (id?: string | null) => planName(id) },
            { title: t('prepaid.topUp.method'), dataIndex: 'method', render: (m: string) => t(`prepaid.method.${m}`) },
            { title: t('prepaid.charges.amount'), dataIndex: 'amount', align: 'right', render: (v: number) => money(v) },
            { title: t('prepaid.topUp.receipt'), dataIndex: 'receipt', render: (v: string) => v || '—' },
            { title: t('prepaid.charges.staff'), dataIndex: 'staff', render: (s: string) => actorName(s) },
          ]}
        />
      </Card>
    </div>
  );
}
