// A member's coupons on their page: each with what it gives, its state and validity, and
// its life (issued, used, voided, restored) when opened; staff may give coupons of a
// template and void an issued one with a reason.
import { useState } from 'react';
import { App, Button, Form, Input, InputNumber, Modal, Select, Table, Tag, Timeline, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { couponKeys, fetchMemberCoupons, fetchTemplates, issueCoupons, voidCoupon, type Coupon } from './api';
import { benefitText } from './terms';
import { useCouponMoney } from './money';

const COLORS: Record<string, string> = { issued: 'green', used: 'blue', voided: 'red', expired: 'default', not_yet_valid: 'gold' };

export function MemberCoupons({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const { can, me } = useAuth();
  const money = useCouponMoney();
  const [giving, setGiving] = useState(false);
  const [voiding, setVoiding] = useState<Coupon | null>(null);
  const coupons = useQuery({ queryKey: couponKeys.member(memberId), queryFn: () => fetchMemberCoupons(memberId), retry: false });
  const when = (v?: string | null) => formatDateTime(v, i18n.language, me?.tenant.time_zone);
  return (
    <div data-testid="member-coupons">
      {can('rewards:manage') && (
        <div className="page-toolbar">
          <span />
          <Button type="primary" onClick={() => setGiving(true)} data-testid="member-coupons-give">
            {t('coupons.member.give')}
          </Button>
        </div>
      )}
      <Table<Coupon>
        size="small"
        rowKey="id"
        pagination={false}
        scroll={{ x: 720 }}
        loading={coupons.isPending}
        dataSource={coupons.data ?? []}
        locale={{ emptyText: coupons.isError ? errorText(t, coupons.error) : t('coupons.member.none') }}
        expandable={{
          expandedRowRender: (c) => (
            <Timeline
              data-testid={`coupon-life-${c.code}`}
              items={c.history.map((e) => ({
                children: (
                  <span>
                    {t(`coupons.life.${e.kind}`)} · {when(e.at)}
                    {e.reason ? ` · ${e.reason}` : ''}
                  </span>
                ),
              }))}
            />
          ),
        }}
        columns={[
          { title: t('coupons.member.code'), dataIndex: 'code', render: (v: string) => <Typography.Text code>{v}</Typography.Text> },
          { title: t('coupons.name'), dataIndex: 'template_name' },
          { title: t('coupons.gives'), key: 'gives', render: (_, c) => benefitText(t, money, c.terms) },
          {
            title: t('coupons.member.status'),
            dataIndex: 'status',
            render: (s: string, c) => (
              <Tag color={COLORS[s]} data-testid={`coupon-status-${c.code}`}>
                {t(`coupons.status.${s}`)}
              </Tag>
            ),
          },
          { title: t('coupons.member.until'), dataIndex: 'valid_until', render: (v: string) => when(v) },
          {
            title: '',
            key: 'void',
            render: (_, c) =>
              can('rewards:manage') && c.status === 'issued' ? (
                <Button size="small" danger onClick={() => setVoiding(c)} data-testid={`coupon-void-${c.code}`}>
                  {t('coupons.member.void')}
                </Button>
              ) : null,
          },
        ]}
      />
      {giving && <GiveModal memberId={memberId} onClose={() => setGiving(false)} />}
      {voiding && <VoidModal memberId={memberId} coupon={voiding} onClose={() => setVoiding(null)} />}
    </div>
  );
}

function GiveModal({ memberId, onClose }: { memberId: string; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<{ template_id: string; quantity: number }>();
  const [error, setError] = useState<string>();
  const templates = useQuery({ queryKey: couponKeys.templates(), queryFn: fetchTemplates });
  const give = useMutation({
    mutationFn: (v: { template_id: string; quantity: number }) =>
      issueCoupons(memberId, { template_id: v.template_id, quantity: v.quantity, idempotency_key: crypto.randomUUID() }),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: couponKeys.member(memberId) });
      void qc.invalidateQueries({ queryKey: couponKeys.templates() });
      void message.success(t('coupons.member.given', { count: r.codes.length, name: r.template_name }));
      onClose();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['template_id', 'quantity'])),
  });
  return (
    <Modal
      open
      title={t('coupons.member.give')}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('coupons.member.giveOk')}
      cancelText={t('common.cancel')}
      confirmLoading={give.isPending}
      okButtonProps={{ ...({ 'data-testid': 'member-coupons-give-submit' } as Record<`data-${string}`, string>) }}
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert" data-testid="member-coupons-give-error">
          {error}
        </Typography.Paragraph>
      )}
      <Form form={form} layout="vertical" initialValues={{ quantity: 1 }} onFinish={(v) => give.mutate(v)}>
        <Form.Item name="template_id" label={t('coupons.member.template')} rules={[{ required: true, message: t('validation.required') }]}>
          <Select
            data-testid="member-coupons-template"
            loading={templates.isPending}
            options={(templates.data ?? []).filter((x) => !x.archived).map((x) => ({ value: x.id, label: x.name }))}
          />
        </Form.Item>
        <Form.Item name="quantity" label={t('coupons.member.quantity')}>
          <InputNumber min={1} max={20} precision={0} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function VoidModal({ memberId, coupon, onClose }: { memberId: string; coupon: Coupon; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [reason, setReason] = useState('');
  const m = useMutation({
    mutationFn: () => voidCoupon(coupon.id, reason),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: couponKeys.member(memberId) });
      void message.success(t('coupons.member.voided', { code: coupon.code }));
      onClose();
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  return (
    <Modal
      open
      title={t('coupons.member.voidTitle', { code: coupon.code })}
      onCancel={onClose}
      onOk={() => m.mutate()}
      okButtonProps={{ danger: true, disabled: !reason.trim(), ...({ 'data-testid': 'coupon-void-submit' } as Record<`data-${string}`, string>) }}
      okText={t('coupons.member.void')}
      cancelText={t('common.cancel')}
      confirmLoading={m.isPending}
    >
      <Input.TextArea
        maxLength={200}
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        placeholder={t('coupons.member.voidReason')}
        data-testid="coupon-void-reason"
      />
    </Modal>
  );
}
