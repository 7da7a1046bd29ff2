import type { TFunction } from 'i18next';
import { useState } from 'react';
import { Alert, Button, DatePicker, Select, Space, Table, Typography } from 'antd';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import type { Dayjs } from 'dayjs';
import type { Schemas } from '../api/client';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { formatMoney } from '../ops/format';
import { useAuth } from '../auth/AuthContext';
import { fetchAuditLog, settingsKeys, type AuditFilter } from './api';
import { useActorName } from '../members/changes';
import { fetchStaff, staffKeys } from '../staff/api';

type Entry = Schemas['AuditEntryView'];
const PAGE = 50;

/** The actions of the business's audit log, as the server spells them. */
export const AUDIT_ACTIONS = [
  'login.failed',
  'staff.created',
  'staff.updated',
  'staff.password_changed',
  'role.created',
  'role.updated',
  'role.deleted',
  'api_key.created',
  'api_key.revoked',
  'settings.updated',
  'card_format.changed',
  'fields.published',
  'members.exported',
  'member.erased',
  'points.adjusted',
  'points.redeemed',
  'member.checked_in',
  'member.created',
  'member.updated',
  'member.imported',
  'member.tier_pinned',
  'member.tier_unpinned',
  'card.physical_bound',
  'card.reported_lost',
  'card.reissued',
  'membership.sold',
  'membership.renewed',
  'membership.frozen',
  'membership.cancelled',
  'pass.sold',
  'pass.used',
  'pass.use_reversed',
  'pass.renewed',
  'pass.frozen',
  'pass.unfrozen',
  'stored_value.topped_up',
  'stored_value.refunded',
  'points.settings',
  'rules.publish',
  'rules.rollback',
  'tiers.publish',
  'tiers.rollback',
  'tiers.reevaluate',
  'tiers.history_exported',
  'tenant.created',
  'tenant.plan_changed',
  'support.opened',
];

export function AuditLogPage() {
  const { t, i18n } = useTranslation();
  const actorName = useActorName();
  const { me } = useAuth();
  const [params, setParams] = useSearchParams();
  const [actor, setActor] = useState<string | undefined>();
  const [action, setAction] = useState<string | undefined>();
  const [range, setRange] = useState<[Dayjs | null, Dayjs | null] | null>(null);
  const member = params.get('member') ?? undefined;
  const filter: AuditFilter = {
    actor,
    action,
    from: range?.[0]?.startOf('day').toISOString(),
    to: range?.[1]?.endOf('day').toISOString(),
    member,
  };
  const staff = useQuery({ queryKey: staffKeys.list(), queryFn: fetchStaff });
  const log = useInfiniteQuery({
    queryKey: settingsKeys.auditLog(filter),
    initialPageParam: undefined as number | undefined,
    queryFn: ({ pageParam }) => fetchAuditLog({ before: pageParam, limit: PAGE, ...filter }),
    getNextPageParam: (last) => (last.length === PAGE ? last[last.length - 1]?.id : undefined),
  });
  const rows = log.data?.pages.flat() ?? [];
  const actionName = (a: string) => t(`audit.actions.${a.replace('.', '_')}`, { defaultValue: a });

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={2}>{t('audit.title')}</Typography.Title>
      </div>
      <Space wrap style={{ marginBottom: 16 }} data-testid="audit-filters">
        <Select
          allowClear
          showSearch
          optionFilterProp="label"
          style={{ minWidth: 180 }}
          placeholder={t('audit.filter.actor')}
          value={actor}
          onChange={setActor}
          data-testid="audit-filter-actor"
          options={(staff.data ?? []).map((s) => ({ value: `staff:${s.id}`, label: s.name || s.email }))}
        />
        <Select
          allowClear
          showSearch
          optionFilterProp="label"
          style={{ minWidth: 200 }}
          placeholder={t('audit.filter.action')}
          value={action}
          onChange={setAction}
          data-testid="audit-filter-action"
          options={AUDIT_ACTIONS.map((a) => ({ value: a, label: actionName(a) }))}
        />
        <DatePicker.RangePicker
          value={range}
          onChange={(v) => setRange(v)}
          placeholder={[t('audit.filter.from'), t('audit.filter.to')]}
          data-testid="audit-filter-when"
        />
        {member && (
          <Button
            onClick={() => {
              params.delete('member');
              setParams(params);
            }}
          >
            {t('audit.filter.clearMember')}
          </Button>
        )}
      </Space>
      {log.isError && <Alert type="error" showIcon message={errorText(t, log.error)} style={{ marginBottom: 16 }} />}
      <Table<Entry>
        rowKey="id"
        size="small"
        loading={log.isPending}
        dataSource={rows}
        pagination={false}
        scroll={{ x: 'max-content' }}
        data-testid="audit-log"
        columns={[
          { title: t('audit.at'), dataIndex: 'at', render: (v: string) => formatDateTime(v, i18n.language, me?.tenant.time_zone) },
          { title: t('audit.actor'), dataIndex: 'actor', render: (a: string) => actorName(a) },
          { title: t('audit.action'), dataIndex: 'action', render: (a: string) => actionName(a) },
          {
            title: t('audit.target'),
            key: 'target',
            // A member by their name (a link to them), anything else by what the console calls it.
            render: (_, e) =>
              e.member_id ? (
                <Link to={`/members/${e.member_id}`} data-testid="audit-member">
                  {e.member_name || t('audit.erasedMember')}
                </Link>
              ) : (
                auditTarget(t, e.action, e.target)
              ),
          },
          {
            title: t('audit.detail'),
            dataIndex: 'detail',
            render: (d: unknown) => <AuditDetail detail={d} currency={me?.tenant.currency} />,
          },
        ]}
      />
      {log.hasNextPage && (
        <div style={{ textAlign: 'center', marginTop: 16 }}>
          <Button onClick={() => void log.fetchNextPage()} loading={log.isFetchingNextPage}>
            {t('audit.more')}
          </Button>
        </div>
      )}
    </>
  );
}

/** An entry's details as named lines: 「版本：3」, a member as a link to them; values as recorded. */
function AuditDetail({ detail, currency }: { detail: unknown; currency?: string }) {
  const { t, i18n } = useTranslation();
  if (!detail || typeof detail !== 'object' || Array.isArray(detail)) return null;
  const entries = Object.entries(detail as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined);
  if (entries.length === 0) return null;
  return (
    <div style={{ fontSize: 12 }}>
      {entries.map(([k, v]) => (
        <div key={k}>
          <Typography.Text type="secondary">{t(`audit.detailKeys.${k}`, { defaultValue: k })}
            {t('audit.keyValueSeparator')}
          </Typography.Text>
          {k === 'member_id' && typeof v === 'string' ? (
            <Link to={`/members/${v}`}>{t('audit.openMember')}</Link>
          ) : typeof v === 'boolean' ? (
            detailValue(t, v)
          ) : MONEY_KEYS.includes(k) && typeof v === 'number' && currency ? (
            formatMoney(v, currency, i18n.language)
          ) : (
            // Values as recorded (codes, names, settings): shown as data, not as interface text.
            <Typography.Text code>{detailValue(t, v)}</Typography.Text>
          )}
        </div>
      ))}
    </div>
  );
}

/** Details that are amounts of money, in the currency's smallest unit. */
const MONEY_KEYS = ['paid', 'refund', 'principal', 'bonus', 'bonus_forfeited'];

function detailValue(t: TFunction, v: unknown): string {
  if (typeof v === 'boolean') return v ? t('audit.yes') : t('audit.no');
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.join(t('audit.listSeparator'));
  return JSON.stringify(v);
}

/** What an entry acted on, by name where the console knows it (a rule's trigger, the tiers). */
function auditTarget(t: TFunction, action: string, target: string | null | undefined): string {
  if (!target) return '';
  if (action.startsWith('rules.')) {
    return target.startsWith('event.')
      ? t('rules.trigger.event', { name: target.slice('event.'.length) })
      : t(`rules.trigger.${target}`, { defaultValue: target });
  }
  if (action.startsWith('tiers.') && target === 'tiers') return t('nav.tiers');
  return target;
}
