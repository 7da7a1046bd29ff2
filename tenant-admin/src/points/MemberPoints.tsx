// A member's points on the member page: balance and totals, the points about to expire, the
// ledger history, the purchase history, and (for those allowed) adjust and redeem.
import { useState } from 'react';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Descriptions,
  Form,
  Input,
  InputNumber,
  Modal,
  Radio,
  Row,
  Space,
  Statistic,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, call, type Schemas } from '../api/client';
import { ApiProblem } from '../api/errors';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { formatMoney } from '../ops/format';
import { useAuth } from '../auth/AuthContext';
import { newIdempotencyKey, useCursorPages } from './cursor';
import { purchaseReasons, toMinor } from './reasons';

type Entry = Schemas['EntryView'];
type Purchase = Schemas['PurchaseView'];

const PAGE = 20;

const KIND_COLOURS: Record<string, string> = {
  earn: 'green',
  redeem: 'blue',
  expire: 'orange',
  adjust: 'purple',
  reverse: 'red',
};

export const pointsKeys = {
  summary: (id: string) => ['points', id, 'summary'] as const,
  entries: (id: string) => ['points', id, 'entries'] as const,
  purchases: (id: string) => ['points', id, 'purchases'] as const,
  all: (id: string) => ['points', id] as const,
};

export function MemberPoints({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const tz = me?.tenant.time_zone;
  const currency = me?.tenant.currency ?? 'CNY';
  const money = (minor: number) => formatMoney(minor, currency, i18n.language);
  const [adjusting, setAdjusting] = useState(false);
  const [redeeming, setRedeeming] = useState(false);

  const summary = useQuery({
    queryKey: pointsKeys.summary(memberId),
    queryFn: () => call(api.GET('/members/{id}/points', { params: { path: { id: memberId } } })),
  });
  const s = summary.data;

  return (
    <div data-testid="member-points">
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('points.member.title')}
        </Typography.Title>
        <Space wrap>
          {can('points:adjust') && (
            <Button onClick={() => setAdjusting(true)} data-testid="points-adjust">
              {t('points.adjust.open')}
            </Button>
          )}
          {can('purchases:write') && (
            <Button onClick={() => setRedeeming(true)} data-testid="points-redeem">
              {t('points.redeem.open')}
            </Button>
          )}
        </Space>
      </div>
      {summary.isError && <Alert type="error" showIcon message={errorText(t, summary.error)} style={{ marginBottom: 16 }} />}
      <Card loading={summary.isPending} size="small" style={{ marginBottom: 16 }}>
        {s && (
          <>
            <Row gutter={[16, 16]}>
              <Col xs={12} md={6}>
                <div data-testid="points-balance">
                  <Statistic title={t('points.member.balance')} value={s.balance} />
                </div>
              </Col>
              <Col xs={12} md={6}>
                <Statistic title={t('points.member.worth')} value={money(s.balance_value)} />
              </Col>
              <Col xs={12} md={6}>
                <Statistic
                  title={t('points.member.debt')}
                  value={s.debt}
                  valueStyle={s.debt > 0 ? { color: '#cf1322' } : undefined}
                />
              </Col>
              <Col xs={12} md={6}>
                <Statistic title={t('points.member.streak')} value={s.streak} />
              </Col>
            </Row>
            <Descriptions size="small" column={{ xs: 1, sm: 2, md: 3 }} style={{ marginTop: 16 }}>
              <Descriptions.Item label={t('points.member.earned')}>{s.earned_total}</Descriptions.Item>
              <Descriptions.Item label={t('points.member.redeemed')}>{s.redeemed_total}</Descriptions.Item>
              <Descriptions.Item label={t('points.member.expired')}>{s.expired_total}</Descriptions.Item>
              <Descriptions.Item label={t('points.member.spend')}>{money(s.spend_total)}</Descriptions.Item>
              <Descriptions.Item label={t('points.member.visits')}>{s.visits}</Descriptions.Item>
              <Descriptions.Item label={t('points.member.lastCheckIn')}>{s.last_check_in ?? '—'}</Descriptions.Item>
            </Descriptions>
          </>
        )}
      </Card>
      <Card
        size="small"
        title={t('points.member.expiring')}
        style={{ marginBottom: 16 }}
        extra={
          s && laterOrNever(s) > 0 ? (
            <Typography.Text type="secondary">{t('points.member.laterOrNever', { points: laterOrNever(s) })}</Typography.Text>
          ) : undefined
        }
      >
        <Table<Schemas['Expiring']>
          rowKey="expires_at"
          size="small"
          pagination={false}
          loading={summary.isPending}
          dataSource={s?.expiring ?? []}
          locale={{ emptyText: t('points.member.noExpiring') }}
          columns={[
            { title: t('points.member.points'), dataIndex: 'points' },
            {
              title: t('points.member.expiresAt'),
              dataIndex: 'expires_at',
              render: (v: string) => formatDateTime(v, i18n.language, tz),
            },
          ]}
        />
      </Card>
      <EntriesCard memberId={memberId} />
      <PurchasesCard memberId={memberId} />
      {adjusting && <AdjustModal memberId={memberId} onClose={() => setAdjusting(false)} />}
      {redeeming && (
        <RedeemModal memberId={memberId} balance={s?.balance ?? 0} onClose={() => setRedeeming(false)} />
      )}
    </div>
  );
}

function EntriesCard({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const tz = me?.tenant.time_zone;
  const pages = useCursorPages<number>();
  const entries = useQuery({
    queryKey: [...pointsKeys.entries(memberId), pages.cursor],
    queryFn: () =>
      call(
        api.GET('/members/{id}/points/entries', {
          params: { path: { id: memberId }, query: { limit: PAGE, before: pages.cursor } },
        }),
      ),
  });
  const next = entries.data?.next_cursor;
  return (
    <Card size="small" title={t('points.member.history')} style={{ marginBottom: 16 }}>
      <Table<Entry>
        rowKey="id"
        size="small"
        data-testid="points-entries"
        loading={entries.isPending}
        dataSource={entries.data?.items}
        pagination={false}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: entries.isError ? errorText(t, entries.error) : t('points.member.noEntries') }}
        columns={[
          { title: t('points.member.at'), dataIndex: 'at', render: (v: string) => formatDateTime(v, i18n.language, tz) },
          {
            title: t('points.member.kind'),
            dataIndex: 'kind',
            render: (k: string) => <Tag color={KIND_COLOURS[k]}>{t(`points.kind.${k}`, { defaultValue: k })}</Tag>,
          },
          {
            title: t('points.member.points'),
            dataIndex: 'points',
            align: 'right',
            render: (p: number) => (
              <Typography.Text type={p < 0 ? 'danger' : 'success'}>{p > 0 ? `+${p}` : p}</Typography.Text>
            ),
          },
          { title: t('points.member.balanceAfter'), dataIndex: 'balance', align: 'right' },
          { title: t('points.member.reason'), dataIndex: 'reason' },
          {
            title: t('points.member.ruleVersion'),
            dataIndex: 'rule_version',
            render: (v?: number | null) => (v === undefined || v === null ? '—' : `v${v}`),
          },
          {
            title: t('points.member.source'),
            key: 'source',
            render: (_, e) => (
              <span title={e.source_id}>{t(`points.source.${e.source}`, { defaultValue: e.source })}</span>
            ),
          },
          { title: t('points.member.actor'), dataIndex: 'actor' },
        ]}
      />
      <Pager
        hasNewer={pages.hasNewer}
        hasOlder={next !== undefined && next !== null}
        onNewer={pages.newer}
        onOlder={() => next !== undefined && next !== null && pages.older(next)}
      />
    </Card>
  );
}

function PurchasesCard({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const tz = me?.tenant.time_zone;
  const pages = useCursorPages<string>();
  const purchases = useQuery({
    queryKey: [...pointsKeys.purchases(memberId), pages.cursor],
    queryFn: () =>
      call(
        api.GET('/members/{id}/purchases', {
          params: { path: { id: memberId }, query: { limit: PAGE, before: pages.cursor } },
        }),
      ),
  });
  const d = purchases.data;
  const currency = me?.tenant.currency ?? 'CNY';
  const next = d?.next_cursor;
  return (
    <Card size="small" title={t('points.purchases.title')} style={{ marginBottom: 16 }}>
      {d && (
        <Descriptions size="small" column={{ xs: 1, sm: 2, md: 4 }} style={{ marginBottom: 12 }}>
          <Descriptions.Item label={t('points.purchases.count')}>{d.total_count}</Descriptions.Item>
          <Descriptions.Item label={t('points.purchases.amount')}>
            {formatMoney(d.total_amount, currency, i18n.language)}
          </Descriptions.Item>
          <Descriptions.Item label={t('points.purchases.refunded')}>
            {formatMoney(d.total_refunded, currency, i18n.language)}
          </Descriptions.Item>
          <Descriptions.Item label={t('points.purchases.points')}>{d.total_points}</Descriptions.Item>
        </Descriptions>
      )}
      <Table<Purchase>
        rowKey="id"
        size="small"
        data-testid="member-purchases"
        loading={purchases.isPending}
        dataSource={d?.items}
        pagination={false}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: purchases.isError ? errorText(t, purchases.error) : t('points.purchases.none') }}
        expandable={{
          rowExpandable: (p) => purchaseReasons(p.reasons).length > 0 || Boolean(p.rule_error),
          expandedRowRender: (p) => (
            <>
              {purchaseReasons(p.reasons).map((r, i) => (
                <div key={i}>
                  {r.line !== undefined && r.line !== null ? `#${r.line + 1} ` : ''}
                  {r.reason}: {r.points}
                </div>
              ))}
              {Boolean(p.rule_error) && (
                <Typography.Text type="danger">
                  {t('points.purchases.ruleError')}: {ruleErrorText(p.rule_error)}
                </Typography.Text>
              )}
            </>
          ),
        }}
        columns={[
          {
            title: t('points.purchases.occurredAt'),
            dataIndex: 'occurred_at',
            render: (v: string) => formatDateTime(v, i18n.language, tz),
          },
          { title: t('points.purchases.externalId'), dataIndex: 'external_id' },
          {
            title: t('points.purchases.amount'),
            key: 'amount',
            align: 'right',
            render: (_, p) => formatMoney(p.amount, p.currency, i18n.language),
          },
          { title: t('points.purchases.store'), dataIndex: 'store' },
          {
            title: t('points.purchases.pointsEarned'),
            key: 'points',
            align: 'right',
            render: (_, p) => (
              <>
                {p.points}
                {p.rule_error ? (
                  <Tag color="red" style={{ marginLeft: 8 }}>
                    {t('points.purchases.ruleError')}
                  </Tag>
                ) : null}
              </>
            ),
          },
          {
            title: t('points.purchases.refunded'),
            key: 'refunded',
            align: 'right',
            render: (_, p) =>
              p.refunded > 0 ? `${formatMoney(p.refunded, p.currency, i18n.language)} (−${p.points_reversed})` : '—',
          },
          {
            title: t('points.member.ruleVersion'),
            dataIndex: 'rule_version',
            render: (v?: number | null) => (v === undefined || v === null ? '—' : `v${v}`),
          },
        ]}
      />
      <Pager
        hasNewer={pages.hasNewer}
        hasOlder={Boolean(next)}
        onNewer={pages.newer}
        onOlder={() => next && pages.older(next)}
      />
    </Card>
  );
}

/** Points of the balance not among the soonest expiries listed: later ones, or never. */
function laterOrNever(s: Schemas['PointsSummary']): number {
  const listed = s.expiring.reduce((sum, e) => sum + e.points, 0);
  return Math.max(0, s.balance - listed);
}

/** The server refused the change and wrote nothing (4xx other than a conflict). */
function refused(err: unknown): boolean {
  return err instanceof ApiProblem && err.status >= 400 && err.status < 500 && err.status !== 409;
}

function ruleErrorText(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e && typeof (e as { message: unknown }).message === 'string') {
    return (e as { message: string }).message;
  }
  return JSON.stringify(e);
}

function Pager(props: { hasNewer: boolean; hasOlder: boolean; onNewer: () => void; onOlder: () => void }) {
  const { t } = useTranslation();
  if (!props.hasNewer && !props.hasOlder) return null;
  return (
    <Space style={{ marginTop: 12 }}>
      <Button size="small" disabled={!props.hasNewer} onClick={props.onNewer}>
        {t('points.member.newer')}
      </Button>
      <Button size="small" disabled={!props.hasOlder} onClick={props.onOlder}>
        {t('points.member.older')}
      </Button>
    </Space>
  );
}

interface AdjustForm {
  direction: 'add' | 'remove';
  points: number;
  reason: string;
}

function AdjustModal({ memberId, onClose }: { memberId: string; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<AdjustForm>();
  const [error, setError] = useState<string>();
  // One key per attempt: pressing OK twice, or retrying after a network error, adjusts once;
  // after a refusal (4xx, nothing written) a corrected form is a new attempt.
  const [key, setKey] = useState(() => newIdempotencyKey('adjust'));
  const adjust = useMutation({
    mutationFn: (v: AdjustForm) =>
      call(
        api.POST('/members/{id}/points/adjustments', {
          params: { path: { id: memberId } },
          body: {
            idempotency_key: key,
            points: v.direction === 'remove' ? -v.points : v.points,
            reason: v.reason.trim(),
          },
        }),
      ),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: pointsKeys.all(memberId) });
      void message.success(t('points.adjust.done', { balance: r.balance }));
      onClose();
    },
    onError: (err) => {
      if (refused(err)) setKey(newIdempotencyKey('adjust'));
      setError(applyServerErrors(t, form, err, ['points', 'reason']));
    },
  });
  const required = { required: true, message: t('validation.required') };
  return (
    <Modal
      open
      title={t('points.adjust.title')}
      onCancel={onClose}
      okText={t('points.adjust.submit')}
      cancelText={t('common.cancel')}
      confirmLoading={adjust.isPending}
      onOk={() => form.submit()}
      okButtonProps={{ 'data-testid': 'points-adjust-submit' } as Record<`data-${string}`, string>}
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      <Form<AdjustForm>
        form={form}
        layout="vertical"
        name="adjust-points"
        initialValues={{ direction: 'add' }}
        onFinish={(v) => {
          setError(undefined);
          adjust.mutate(v);
        }}
      >
        <Form.Item name="direction" label={t('points.adjust.direction')}>
          <Radio.Group
            options={[
              { value: 'add', label: t('points.adjust.add') },
              { value: 'remove', label: t('points.adjust.remove') },
            ]}
          />
        </Form.Item>
        <Form.Item name="points" label={t('points.member.points')} rules={[required]}>
          <InputNumber min={1} precision={0} style={{ width: '100%' }} data-testid="points-adjust-points" />
        </Form.Item>
        <Form.Item
          name="reason"
          label={t('points.member.reason')}
          extra={t('points.adjust.reasonHelp')}
          rules={[required, { whitespace: true, message: t('validation.required') }, { max: 500 }]}
        >
          <Input.TextArea rows={2} maxLength={500} data-testid="points-adjust-reason" />
        </Form.Item>
      </Form>
    </Modal>
  );
}

interface RedeemForm {
  mode: 'reward' | 'deduction';
  reward?: string;
  points?: number | null;
  purchase_amount?: number | null;
}

function RedeemModal({ memberId, balance, onClose }: { memberId: string; balance: number; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const { modal } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<RedeemForm>();
  const mode = Form.useWatch('mode', form) ?? 'reward';
  const [error, setError] = useState<string>();
  const [key, setKey] = useState(() => newIdempotencyKey('redeem'));
  const currency = me?.tenant.currency ?? 'CNY';
  const money = (minor: number) => formatMoney(minor, currency, i18n.language);
  const redeem = useMutation({
    mutationFn: (v: RedeemForm) =>
      call(
        api.POST('/members/{id}/redemptions', {
          params: { path: { id: memberId } },
          body:
            v.mode === 'reward'
              ? { idempotency_key: key, reward: (v.reward ?? '').trim(), points: v.points ?? undefined }
              : {
                  idempotency_key: key,
                  // The amount is typed in major units (yuan); the API takes minor units.
                  purchase_amount: toMinor(v.purchase_amount ?? 0, currency),
                  points: v.points ?? undefined,
                },
        }),
      ),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: pointsKeys.all(memberId) });
      onClose();
      void modal.success({
        title: t('points.redeem.done'),
        content: (
          <Descriptions column={1} size="small">
            <Descriptions.Item label={t('points.member.points')}>{r.points}</Descriptions.Item>
            {r.value !== undefined && r.value !== null && (
              <Descriptions.Item label={t('points.redeem.value')}>{money(r.value)}</Descriptions.Item>
            )}
            {r.amount_due !== undefined && r.amount_due !== null && (
              <Descriptions.Item label={t('points.redeem.amountDue')}>{money(r.amount_due)}</Descriptions.Item>
            )}
            <Descriptions.Item label={t('points.member.balance')}>{r.balance}</Descriptions.Item>
          </Descriptions>
        ),
      });
    },
    onError: (err) => {
      if (refused(err)) setKey(newIdempotencyKey('redeem'));
      setError(applyServerErrors(t, form, err, ['reward', 'points', 'purchase_amount']));
    },
  });
  const required = { required: true, message: t('validation.required') };
  return (
    <Modal
      open
      title={t('points.redeem.title')}
      onCancel={onClose}
      okText={t('points.redeem.submit')}
      cancelText={t('common.cancel')}
      confirmLoading={redeem.isPending}
      onOk={() => form.submit()}
    >
      <Typography.Paragraph type="secondary">{t('points.redeem.balance', { balance })}</Typography.Paragraph>
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      <Form<RedeemForm>
        form={form}
        layout="vertical"
        name="redeem-points"
        initialValues={{ mode: 'reward' }}
        onFinish={(v) => {
          setError(undefined);
          redeem.mutate(v);
        }}
      >
        <Form.Item name="mode" label={t('points.redeem.mode')}>
          <Radio.Group
            options={[
              { value: 'reward', label: t('points.redeem.reward') },
              { value: 'deduction', label: t('points.redeem.deduction') },
            ]}
          />
        </Form.Item>
        {mode === 'reward' ? (
          <>
            <Form.Item name="reward" label={t('points.redeem.rewardName')} rules={[required, { max: 200 }]}>
              <Input maxLength={200} />
            </Form.Item>
            <Form.Item name="points" label={t('points.member.points')} rules={[required]}>
              <InputNumber min={1} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </>
        ) : (
          <>
            <Form.Item
              name="purchase_amount"
              label={t('points.redeem.purchaseAmount')}
              extra={t('points.redeem.purchaseAmountHelp', { currency })}
              rules={[required]}
            >
              <InputNumber min={0.01} precision={2} style={{ width: '100%' }} />
            </Form.Item>
            <Form.Item name="points" label={t('points.member.points')} extra={t('points.redeem.pointsHelp')}>
              <InputNumber min={1} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </>
        )}
      </Form>
    </Modal>
  );
}
