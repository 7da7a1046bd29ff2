// A member's tier on the member page: the tier with its colour and benefits, progress to
// the next one, what keeps this one, the pin (set and ended by those allowed to override),
// and the tier history.
import { useState } from 'react';
import {
  Alert,
  App,
  Button,
  Card,
  DatePicker,
  Descriptions,
  Empty,
  Form,
  Input,
  Modal,
  Progress,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { applyServerErrors, errorText } from '../common/forms';
import { discountText, formatDateTime } from '../common/format';
import { reasonText } from '../common/reasons';
import { formatMoney } from '../ops/format';
import { useAuth } from '../auth/AuthContext';
import { useActorName } from '../members/changes';
import { metricValue, multiplierText, nameIn, progressMessage, progressPercent } from './ladder';
import { fetchMemberTier, fetchTiersOverview, pinMemberTier, tiersKeys, unpinMemberTier } from './api';

type View = Schemas['MemberTierView'];

export function MemberTier({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const lang = i18n.language;
  const tz = me?.tenant.time_zone;
  const money = (minor: number) => formatMoney(minor, me?.tenant.currency ?? 'CNY', lang);
  const [pinning, setPinning] = useState(false);
  const [unpinning, setUnpinning] = useState(false);
  const pinActor = useActorName();
  const q = useQuery({
    queryKey: tiersKeys.member(memberId),
    queryFn: () => fetchMemberTier(memberId),
  });
  const v = q.data;
  if (q.isError) return <Alert type="error" showIcon message={errorText(t, q.error)} />;
  if (q.isPending) return <Card loading size="small" />;

  const tier = v?.tier;
  const p = v?.progress;
  const msg = p ? progressMessage(p, lang, money) : undefined;
  const when = (iso: string | undefined) => formatDateTime(iso, lang, tz);
  return (
    <div data-testid="member-tier">
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('tiers.member.title')}
        </Typography.Title>
        {can('tiers:override') && v?.ladder_version !== undefined && (
          <Space wrap>
            <Button onClick={() => setPinning(true)} data-testid="tier-pin">
              {t('tiers.member.pin')}
            </Button>
            {v.pin && (
              <Button onClick={() => setUnpinning(true)} data-testid="tier-unpin">
                {t('tiers.member.unpin')}
              </Button>
            )}
          </Space>
        )}
      </div>
      {v?.ladder_version === undefined || !tier ? (
        <Empty description={t('tiers.member.noLadder')} />
      ) : (
        <>
          <Card size="small" style={{ marginBottom: 16 }}>
            <Space align="center" wrap style={{ marginBottom: 12 }}>
              <Tag color={tier.color} style={{ fontSize: 16, padding: '4px 12px' }} data-testid="member-tier-name">
                {nameIn(tier.name, lang)}
              </Tag>
              {v.since && <Typography.Text type="secondary">{t('tiers.member.since', { at: when(v.since) })}</Typography.Text>}
              {v.pin && <Tag color="purple">{t('tiers.member.pinned')}</Tag>}
            </Space>
            <Descriptions size="small" column={{ xs: 1, sm: 2, md: 4 }}>
              <Descriptions.Item label={t('tiers.tier.multiplier')}>{multiplierText(tier.benefits.multiplier)}</Descriptions.Item>
              <Descriptions.Item label={t('tiers.tier.discount')}>{discountText(t, lang, tier.benefits.discount_percent)}</Descriptions.Item>
              <Descriptions.Item label={t('tiers.tier.birthday')}>{tier.benefits.birthday_gift_points}</Descriptions.Item>
              <Descriptions.Item label={t('tiers.member.version')}>{`v${v.ladder_version}`}</Descriptions.Item>
            </Descriptions>
            {tier.benefits.perks.length > 0 && (
              <Space wrap style={{ marginTop: 8 }}>
                {tier.benefits.perks.map((perk, i) => (
                  <Tag key={i}>{nameIn(perk, lang)}</Tag>
                ))}
              </Space>
            )}
          </Card>
          {p && (
            <Card size="small" title={t('tiers.member.progress')} style={{ marginBottom: 16 }} data-testid="member-tier-progress">
              <Typography.Paragraph>
                {t('tiers.member.value', { metric: t(`tiers.metric.${p.metric}`), value: metricValue(p.metric, p.value, money) })}
              </Typography.Paragraph>
              <Progress percent={progressPercent(p)} showInfo={false} strokeColor={p.next ? undefined : tier.color} />
              <Typography.Paragraph>{msg ? t(msg.key, msg.values) : t('tiers.progress.top')}</Typography.Paragraph>
              <Typography.Paragraph type={v.below_since ? 'warning' : 'secondary'} style={{ marginBottom: 0 }}>
                {v.below_since
                  ? t('tiers.member.below', { since: when(v.below_since), until: when(v.retained_until ?? undefined) })
                  : t('tiers.member.keeps', { value: metricValue(p.metric, p.keep_threshold, money) })}
              </Typography.Paragraph>
            </Card>
          )}
          {v.pin && (
            <Alert
              type="info"
              showIcon
              style={{ marginBottom: 16 }}
              data-testid="member-tier-pin"
              message={t('tiers.member.pinInfo', {
                tier: v.pin.tier === tier.code ? nameIn(tier.name, lang) : nameIn(v.pin.tier_name, lang) || v.pin.tier,
                until: when(v.pin.until),
                by: pinActor(v.pin.by),
              })}
              description={v.pin.reason}
            />
          )}
        </>
      )}
      <History history={v?.history ?? []} />
      {pinning && v && <PinModal memberId={memberId} onClose={() => setPinning(false)} />}
      {unpinning && <UnpinModal memberId={memberId} onClose={() => setUnpinning(false)} />}
    </div>
  );
}

function History({ history }: { history: View['history'] }) {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const actorName = useActorName();
  return (
    <Card size="small" title={t('tiers.member.history')}>
      <Table<Schemas['TierMoveView']>
        rowKey="id"
        size="small"
        dataSource={history}
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: t('tiers.member.noHistory') }}
        columns={[
          { title: t('tiers.member.at'), dataIndex: 'at', render: (at: string) => formatDateTime(at, i18n.language, me?.tenant.time_zone) },
          {
            title: t('tiers.member.kind'),
            dataIndex: 'kind',
            render: (k: string) => <Tag>{t(`tiers.member.kinds.${k}`, { defaultValue: k })}</Tag>,
          },
          {
            title: t('tiers.preview.from'),
            dataIndex: 'from',
            render: (c: string, m) => nameIn(m.from_name, i18n.language) || c || '—',
          },
          {
            title: t('tiers.preview.to'),
            dataIndex: 'to',
            render: (c: string, m) => nameIn(m.to_name, i18n.language) || c || '—',
          },
          {
            title: t('tiers.member.reason'),
            dataIndex: 'reason',
            render: (r: string | null, m) => (
              <span data-testid="tier-move-reason">
                {reasonText(t, r ?? '', m.reason_code, m.reason_params as Record<string, unknown> | null | undefined, {
                  lang: i18n.language,
                })}
              </span>
            ),
          },
          { title: t('tiers.member.version'), dataIndex: 'ladder_version', render: (n?: number) => (n ? `v${n}` : '—') },
          { title: t('tiers.member.by'), dataIndex: 'actor', render: (a: string) => actorName(a) },
        ]}
      />
    </Card>
  );
}

interface PinValues {
  tier: string;
  until: { endOf: (u: 'day') => { toISOString: () => string } } | undefined;
  reason: string;
}

function PinModal({ memberId, onClose }: { memberId: string; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const [form] = Form.useForm<PinValues>();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [problem, setProblem] = useState<string>();
  const overview = useQuery({ queryKey: tiersKeys.overview(), queryFn: fetchTiersOverview });
  const tiers = overview.data?.active?.ladder.tiers ?? [];
  const pin = useMutation({
    mutationFn: (v: PinValues) =>
      pinMemberTier(memberId, { tier: v.tier, until: v.until?.endOf('day').toISOString() ?? '', reason: v.reason ?? '' }),
    onSuccess: (view) => {
      qc.setQueryData(tiersKeys.member(memberId), view);
      void message.success(t('tiers.member.pinned'));
      onClose();
    },
    onError: (err) => setProblem(applyServerErrors(t, form, err, ['tier', 'until', 'reason'])),
  });
  return (
    <Modal
      open
      title={t('tiers.member.pinTitle')}
      okText={t('tiers.member.pin')}
      onCancel={onClose}
      onOk={() => form.submit()}
      confirmLoading={pin.isPending}
    >
      {problem && <Alert type="error" showIcon message={problem} style={{ marginBottom: 16 }} />}
      <Form<PinValues> form={form} layout="vertical" onFinish={(v) => pin.mutate(v)}>
        <Form.Item name="tier" label={t('tiers.member.pinTier')} rules={[{ required: true, message: t('tiers.member.pinTierRequired') }]}>
          <Select
            loading={overview.isPending}
            options={tiers.map((x) => ({ value: x.code, label: nameIn(x.name, i18n.language) }))}
            data-testid="tier-pin-tier"
          />
        </Form.Item>
        <Form.Item name="until" label={t('tiers.member.pinUntil')} rules={[{ required: true, message: t('tiers.member.pinUntilRequired') }]}>
          <DatePicker style={{ width: '100%' }} disabledDate={(d) => d.valueOf() < Date.now()} />
        </Form.Item>
        <Form.Item name="reason" label={t('tiers.member.reason')} rules={[{ required: true, message: t('tiers.member.reasonRequired') }]}>
          <Input.TextArea rows={2} maxLength={500} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function UnpinModal({ memberId, onClose }: { memberId: string; onClose: () => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<{ reason: string }>();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [problem, setProblem] = useState<string>();
  const unpin = useMutation({
    mutationFn: (v: { reason: string }) => unpinMemberTier(memberId, v.reason),
    onSuccess: (view) => {
      qc.setQueryData(tiersKeys.member(memberId), view);
      void message.success(t('tiers.member.unpinned'));
      onClose();
    },
    onError: (err) => setProblem(applyServerErrors(t, form, err, ['reason'])),
  });
  return (
    <Modal open title={t('tiers.member.unpinTitle')} okText={t('tiers.member.unpin')} onCancel={onClose} onOk={() => form.submit()} confirmLoading={unpin.isPending}>
      {problem && <Alert type="error" showIcon message={problem} style={{ marginBottom: 16 }} />}
      <Form form={form} layout="vertical" onFinish={(v) => unpin.mutate(v)}>
        <Form.Item name="reason" label={t('tiers.member.reason')} rules={[{ required: true, message: t('tiers.member.reasonRequired') }]}>
          <Input.TextArea rows={2} maxLength={500} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
