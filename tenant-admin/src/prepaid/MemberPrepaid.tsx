// A member's prepaid on the member page (「储值与会员」): memberships with their dates (sell,
// renew, freeze, cancel), the stored-value balance by sub-ledger with its history (a top-up
// at the counter whose bonus is shown before confirming), and passes with visits left (sell,
// consume a visit, reverse one with a reason, renew). A section the business's plan lacks
// says so instead.
import { useState, type ReactNode } from 'react';
import { Alert, Button, Card, Col, Row, Space, Statistic, Table, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { useActorName } from '../members/changes';
import {
  fetchMemberMemberships,
  fetchMemberPasses,
  fetchStoredValue,
  prepaidKeys,
  type MemberPass,
  type Membership,
  type TopUp,
} from './api';
import { addDays } from './money';
import { missingFeature, useMoney } from './parts';
import { TopUpModal } from './TopUpModal';
import { SellMembershipModal, SellPassModal } from './SellModals';
import {
  CancelMembershipModal,
  ConsumeVisitModal,
  FreezeMembershipModal,
  RefundTopUpModal,
  RenewMembershipModal,
  RenewPassModal,
  ReverseVisitModal,
} from './ActionModals';

type Open =
  | { kind: 'top-up' | 'sell-membership' | 'sell-pass' }
  | { kind: 'renew' | 'freeze' | 'cancel'; membership: Membership }
  | { kind: 'consume' | 'renew-pass'; pass: MemberPass }
  | { kind: 'reverse'; pass: MemberPass; useId: number }
  | { kind: 'refund-top-up'; topUp: TopUp };

export function MemberPrepaid({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const tz = me?.tenant.time_zone;
  const money = useMoney();
  const actorName = useActorName();
  const [open, setOpen] = useState<Open>();
  const close = () => setOpen(undefined);
  const sv = useQuery({ queryKey: prepaidKeys.storedValue(memberId), queryFn: () => fetchStoredValue(memberId), retry: false });
  const passes = useQuery({ queryKey: prepaidKeys.passes(memberId), queryFn: () => fetchMemberPasses(memberId), retry: false });
  const memberships = useQuery({
    queryKey: prepaidKeys.memberships(memberId),
    queryFn: () => fetchMemberMemberships(memberId),
    retry: false,
  });
  const failed = [sv, passes, memberships].find((q) => q.isError && !missingFeature(q.error));
  const selling = can('purchases:write');
  const has = {
    memberships: !missingFeature(memberships.error),
    storedValue: !missingFeature(sv.error),
    passes: !missingFeature(passes.error),
  };
  const notInPlan = (feature: string) => (
    <Typography.Text type="secondary">{t('prepaid.gate.title', { feature: t(`features.${feature}`) })}</Typography.Text>
  );
  const act = (label: string, testId: string, onClick: () => void, danger = false): ReactNode => (
    <Button size="small" type="link" danger={danger} onClick={onClick} data-testid={testId} style={{ padding: '0 4px' }}>
      {label}
    </Button>
  );

  return (
    <div data-testid="member-prepaid">
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('prepaid.member.title')}
        </Typography.Title>
        {selling && (
          <Space wrap>
            {has.storedValue && (
              <Button type="primary" onClick={() => setOpen({ kind: 'top-up' })} data-testid="prepaid-top-up">
                {t('prepaid.topUp.open')}
              </Button>
            )}
            {has.memberships && (
              <Button onClick={() => setOpen({ kind: 'sell-membership' })} data-testid="prepaid-sell-membership">
                {t('prepaid.sell.membership')}
              </Button>
            )}
            {has.passes && (
              <Button onClick={() => setOpen({ kind: 'sell-pass' })} data-testid="prepaid-sell-pass">
                {t('prepaid.sell.pass')}
              </Button>
            )}
          </Space>
        )}
      </div>
      {failed?.error && <Alert type="error" showIcon message={errorText(t, failed.error)} style={{ marginBottom: 16 }} />}
      <Card title={t('prepaid.member.memberships')} size="small" style={{ marginBottom: 16 }} loading={memberships.isPending}>
        {!has.memberships ? (
          notInPlan('memberships')
        ) : (
          <Table<Membership>
            size="small"
            rowKey="id"
            pagination={false}
            scroll={{ x: 720 }}
            dataSource={memberships.data ?? []}
            locale={{ emptyText: t('prepaid.member.noMemberships') }}
            data-testid="prepaid-memberships"
            columns={[
              { title: t('prepaid.member.plan'), dataIndex: 'plan_name' },
              { title: t('prepaid.member.starts'), dataIndex: 'starts_on' },
              {
                title: t('prepaid.member.lastDay'),
                dataIndex: 'ends_on',
                render: (v: string) => <span data-testid="prepaid-membership-last">{addDays(v, -1)}</span>,
              },
              {
                title: t('prepaid.member.status'),
                dataIndex: 'status',
                render: (s: string) => <Tag color={s === 'active' ? 'green' : 'default'}>{t(`prepaid.status.${s}`)}</Tag>,
              },
              { title: t('prepaid.member.paid'), dataIndex: 'paid', render: (v: number) => money(v) },
              {
                title: t('prepaid.member.frozen'),
                dataIndex: 'frozen_days',
                render: (v: number) => (v > 0 ? t('prepaid.period.days', { count: v }) : '—'),
              },
              ...(selling
                ? [
                    {
                      title: t('common.actions'),
                      key: 'actions',
                      render: (_: unknown, m: Membership) =>
                        m.status === 'active' ? (
                          <Space size={0} wrap>
                            {act(t('prepaid.actions.renew'), 'prepaid-renew', () => setOpen({ kind: 'renew', membership: m }))}
                            {act(t('prepaid.actions.freeze'), 'prepaid-freeze', () => setOpen({ kind: 'freeze', membership: m }))}
                            {act(t('prepaid.actions.cancel'), 'prepaid-cancel', () => setOpen({ kind: 'cancel', membership: m }), true)}
                          </Space>
                        ) : null,
                    },
                  ]
                : []),
            ]}
          />
        )}
      </Card>
      <Card title={t('prepaid.member.storedValue')} size="small" style={{ marginBottom: 16 }} loading={sv.isPending}>
        {!has.storedValue && notInPlan('stored_value')}
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
            {sv.data.top_ups.length > 0 && (
              <>
                <Typography.Title level={5}>{t('prepaid.member.topUps')}</Typography.Title>
                <Table<TopUp>
                  size="small"
                  rowKey="id"
                  pagination={false}
                  scroll={{ x: 640 }}
                  dataSource={sv.data.top_ups}
                  style={{ marginBottom: 16 }}
                  data-testid="prepaid-top-ups"
                  columns={[
                    { title: t('prepaid.member.at'), dataIndex: 'at', render: (v: string) => formatDateTime(v, i18n.language, tz) },
                    { title: t('prepaid.ledger.principal'), dataIndex: 'principal', render: (v: number) => money(v) },
                    { title: t('prepaid.ledger.bonus'), dataIndex: 'bonus', render: (v: number) => money(v) },
                    { title: t('prepaid.topUp.method'), dataIndex: 'method', render: (m: string) => t(`prepaid.method.${m}`) },
                    { title: t('prepaid.topUp.receipt'), dataIndex: 'receipt', render: (v: string) => v || '—' },
                    {
                      title: t('common.actions'),
                      key: 'actions',
                      render: (_: unknown, u: TopUp) =>
                        u.refunded_at ? (
                          <Typography.Text type="secondary">
                            {t('prepaid.refundTopUp.refunded', { amount: money(u.refunded_principal ?? 0) })}
                          </Typography.Text>
                        ) : selling ? (
                          act(t('prepaid.refundTopUp.open'), 'prepaid-refund-top-up', () => setOpen({ kind: 'refund-top-up', topUp: u }), true)
                        ) : null,
                    },
                  ]}
                />
                <Typography.Title level={5}>{t('prepaid.member.history')}</Typography.Title>
              </>
            )}
            <Table
              size="small"
              rowKey="id"
              pagination={false}
              scroll={{ x: 640 }}
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
        {!has.passes ? (
          notInPlan('visit_passes')
        ) : (
          <Table<MemberPass>
            size="small"
            rowKey="id"
            pagination={false}
            scroll={{ x: 720 }}
            dataSource={passes.data ?? []}
            locale={{ emptyText: t('prepaid.member.noPasses') }}
            data-testid="prepaid-passes"
            expandable={{
              rowExpandable: (p) => p.uses.length > 0,
              expandedRowRender: (p) => (
                <Table
                  size="small"
                  rowKey="id"
                  pagination={false}
                  scroll={{ x: 560 }}
                  dataSource={p.uses}
                  columns={[
                    { title: t('prepaid.member.at'), dataIndex: 'at', render: (v: string) => formatDateTime(v, i18n.language, tz) },
                    { title: t('prepaid.actions.category'), dataIndex: 'category', render: (v: string) => v || '—' },
                    { title: t('prepaid.actions.by'), dataIndex: 'actor', render: (a: string) => actorName(a) },
                    {
                      title: t('prepaid.member.status'),
                      key: 'state',
                      render: (_: unknown, u: MemberPass['uses'][number]) =>
                        u.reversed_at ? (
                          <Typography.Text type="secondary">
                            {t('prepaid.actions.reversedOn', { reason: u.reason ?? '' })}
                          </Typography.Text>
                        ) : selling ? (
                          act(t('prepaid.actions.reverse'), 'prepaid-reverse', () => setOpen({ kind: 'reverse', pass: p, useId: u.id }), true)
                        ) : null,
                    },
                  ]}
                />
              ),
            }}
            columns={[
              { title: t('prepaid.member.pass'), dataIndex: 'product_name' },
              {
                title: t('prepaid.member.visitsLeft'),
                key: 'visits',
                render: (_: unknown, p) => <span data-testid="prepaid-pass-visits">{`${p.visits_left} / ${p.visits_total}`}</span>,
              },
              { title: t('prepaid.member.expires'), dataIndex: 'expires_on', render: (v?: string | null) => v ?? t('prepaid.member.never') },
              {
                title: t('prepaid.member.status'),
                dataIndex: 'status',
                render: (s: string) => <Tag color={s === 'active' ? 'green' : 'default'}>{t(`prepaid.status.${s}`)}</Tag>,
              },
              ...(selling
                ? [
                    {
                      title: t('common.actions'),
                      key: 'actions',
                      render: (_: unknown, p: MemberPass) => (
                        <Space size={0} wrap>
                          {p.status === 'active' &&
                            act(t('prepaid.actions.consume'), 'prepaid-consume', () => setOpen({ kind: 'consume', pass: p }))}
                          {p.expires_on && p.visits_left > 0 &&
                            act(t('prepaid.actions.renewPass'), 'prepaid-renew-pass', () => setOpen({ kind: 'renew-pass', pass: p }))}
                        </Space>
                      ),
                    },
                  ]
                : []),
            ]}
          />
        )}
      </Card>
      {open?.kind === 'top-up' && <TopUpModal memberId={memberId} onClose={close} />}
      {open?.kind === 'sell-membership' && <SellMembershipModal memberId={memberId} onClose={close} />}
      {open?.kind === 'sell-pass' && <SellPassModal memberId={memberId} onClose={close} />}
      {open?.kind === 'renew' && <RenewMembershipModal memberId={memberId} membership={open.membership} onClose={close} />}
      {open?.kind === 'freeze' && <FreezeMembershipModal memberId={memberId} membership={open.membership} onClose={close} />}
      {open?.kind === 'cancel' && <CancelMembershipModal memberId={memberId} membership={open.membership} onClose={close} />}
      {open?.kind === 'consume' && <ConsumeVisitModal memberId={memberId} pass={open.pass} onClose={close} />}
      {open?.kind === 'renew-pass' && <RenewPassModal memberId={memberId} pass={open.pass} onClose={close} />}
      {open?.kind === 'refund-top-up' && <RefundTopUpModal memberId={memberId} topUp={open.topUp} onClose={close} />}
      {open?.kind === 'reverse' && (
        <ReverseVisitModal memberId={memberId} pass={open.pass} useId={open.useId} onClose={close} />
      )}
    </div>
  );
}
