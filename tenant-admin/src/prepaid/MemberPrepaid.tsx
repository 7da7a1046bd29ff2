// A member's prepaid on the member page (「储值与会员」): memberships with their dates, the
// stored-value balance by sub-ledger with its history, passes with visits left, and (for
// those allowed) a top-up at the counter whose bonus is shown before confirming.
import { useState } from 'react';
import { Alert, Button, Card, Col, Row, Space, Statistic, Table, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { formatMoney } from '../ops/format';
import { useAuth } from '../auth/AuthContext';
import { fetchMemberMemberships, fetchMemberPasses, fetchStoredValue, prepaidKeys } from './api';
import { TopUpModal } from './TopUpModal';

export function MemberPrepaid({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const tz = me?.tenant.time_zone;
  const currency = me?.tenant.currency ?? 'CNY';
  const money = (minor: number) => formatMoney(minor, currency, i18n.language);
  const [toppingUp, setToppingUp] = useState(false);
  const sv = useQuery({ queryKey: prepaidKeys.storedValue(memberId), queryFn: () => fetchStoredValue(memberId) });
  const passes = useQuery({ queryKey: prepaidKeys.passes(memberId), queryFn: () => fetchMemberPasses(memberId) });
  const memberships = useQuery({
    queryKey: prepaidKeys.memberships(memberId),
    queryFn: () => fetchMemberMemberships(memberId),
  });
  const failed = [sv, passes, memberships].find((q) => q.isError);

  return (
    <div data-testid="member-prepaid">
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('prepaid.member.title')}
        </Typography.Title>
        {can('purchases:write') && (
          <Button type="primary" onClick={() => setToppingUp(true)} data-testid="prepaid-top-up">
            {t('prepaid.topUp.open')}
          </Button>
        )}
      </div>
      {failed?.error && <Alert type="error" showIcon message={errorText(t, failed.error)} style={{ marginBottom: 16 }} />}
      <Card title={t('prepaid.member.memberships')} size="small" style={{ marginBottom: 16 }} loading={memberships.isPending}>
        <Table
          size="small"
          rowKey="id"
          pagination={false}
          scroll={{ x: true }}
          dataSource={memberships.data ?? []}
          locale={{ emptyText: t('prepaid.member.noMemberships') }}
          columns={[
            { title: t('prepaid.member.plan'), dataIndex: 'plan_name' },
            { title: t('prepaid.member.starts'), dataIndex: 'starts_on' },
            { title: t('prepaid.member.ends'), dataIndex: 'ends_on' },
            {
              title: t('prepaid.member.status'),
              dataIndex: 'status',
              render: (s: string) => <Tag color={s === 'active' ? 'green' : 'default'}>{t(`prepaid.status.${s}`)}</Tag>,
            },
            { title: t('prepaid.member.paid'), dataIndex: 'paid', render: (v: number) => money(v) },
          ]}
        />
      </Card>
      <Card title={t('prepaid.member.storedValue')} size="small" style={{ marginBottom: 16 }} loading={sv.isPending}>
        {sv.data && (
          <>
            <Row gutter={[16, 16]} style={{ marginBottom: 16 }}>
              <Col xs={24} sm={8}>
                <div data-testid="prepaid-total">
                  <Statistic title={t('prepaid.member.total')} value={money(sv.data.balance.total)} />
                </div>
              </Col>
              <Col xs={12} sm={8}>
                <div data-testid="prepaid-principal">
                  <Statistic title={t('prepaid.ledger.principal')} value={money(sv.data.balance.principal)} />
                </div>
              </Col>
              <Col xs={12} sm={8}>
                <div data-testid="prepaid-bonus">
                  <Statistic title={t('prepaid.ledger.bonus')} value={money(sv.data.balance.bonus)} />
                </div>
              </Col>
            </Row>
            <Table
              size="small"
              rowKey="id"
              pagination={false}
              scroll={{ x: true }}
              dataSource={sv.data.entries}
              locale={{ emptyText: t('prepaid.member.noEntries') }}
              columns={[
                { title: t('prepaid.member.at'), dataIndex: 'at', render: (v: string) => formatDateTime(v, i18n.language, tz) },
                { title: t('prepaid.member.ledger'), dataIndex: 'ledger', render: (v: string) => t(`prepaid.ledger.${v}`) },
                { title: t('prepaid.member.kind'), dataIndex: 'kind', render: (v: string) => t(`prepaid.kind.${v}`) },
                { title: t('prepaid.member.amount'), dataIndex: 'amount', render: (v: number) => money(v) },
                { title: t('prepaid.member.balanceAfter'), dataIndex: 'balance', render: (v: number) => money(v) },
              ]}
            />
          </>
        )}
      </Card>
      <Card title={t('prepaid.member.passes')} size="small" loading={passes.isPending}>
        <Table
          size="small"
          rowKey="id"
          pagination={false}
          scroll={{ x: true }}
          dataSource={passes.data ?? []}
          locale={{ emptyText: t('prepaid.member.noPasses') }}
          columns={[
            { title: t('prepaid.member.pass'), dataIndex: 'product_name' },
            {
              title: t('prepaid.member.visitsLeft'),
              key: 'visits',
              render: (_: unknown, p: { visits_left: number; visits_total: number }) => `${p.visits_left} / ${p.visits_total}`,
            },
            { title: t('prepaid.member.expires'), dataIndex: 'expires_on', render: (v?: string | null) => v ?? t('prepaid.member.never') },
            {
              title: t('prepaid.member.status'),
              dataIndex: 'status',
              render: (s: string) => <Tag color={s === 'active' ? 'green' : 'default'}>{t(`prepaid.status.${s}`)}</Tag>,
            },
          ]}
        />
      </Card>
      {toppingUp && <TopUpModal memberId={memberId} onClose={() => setToppingUp(false)} />}
      <Space />
    </div>
  );
}
