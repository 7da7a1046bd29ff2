// Recording a purchase at the desk: the amount in yuan (major units), optional items and
// store, and coupon codes (each checked against the cart before the clerk records it). One
// idempotency key (the purchase's external id) per open dialog, so a double click or a
// retry never records twice; the answer shows the points earned, the tier, what each
// coupon took off, the coupons a point rule gave and what was paid.
import { useEffect, useRef, useState } from 'react';
import { Col, Descriptions, Divider, Form, Input, InputNumber, Modal, Result, Row, Select, Typography } from 'antd';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiProblem } from '../api/errors';
import { applyServerErrors, errorText } from '../common/forms';
import { couponKeys, fetchTemplates, validateCoupons } from '../coupons/api';
import { reasonText } from '../coupons/terms';
import { useCouponMoney } from '../coupons/money';
import { formatMoney } from '../ops/format';
import { useAuth } from '../auth/AuthContext';
import { newIdempotencyKey } from '../points/cursor';
import { toMinor } from '../points/reasons';
import type { Schemas } from '../api/client';
import { recordPurchase } from './api';
import { CouponEntry, effectText } from './CouponEntry';

interface PurchaseForm {
  amount?: number | null;
  items?: string[];
  store?: string;
}

type Cart = Schemas['CouponCart'];

/** The value, once it has stopped changing for `ms` (the cart while the clerk types). */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  const json = JSON.stringify(value);
  useEffect(() => {
    const id = setTimeout(() => setSettled(JSON.parse(json) as T), ms);
    return () => clearTimeout(id);
  }, [json, ms]);
  return settled;
}

/** The purchase's items as the server reads them (names typed at the desk). */
const itemsOf = (names: string[] | undefined) =>
  (names ?? []).map((name) => ({ sku: '', name, category: '', quantity: 1, unit_price: 0 }));

export function PurchaseModal({
  memberId,
  onClose,
  onDone,
  tierName = (code) => code,
}: {
  memberId: string;
  onClose: () => void;
  onDone: () => void;
  tierName?: (code: string) => string;
}) {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const currency = me?.tenant.currency ?? 'CNY';
  const [form] = Form.useForm<PurchaseForm>();
  const [key] = useState(() => newIdempotencyKey('desk'));
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<Schemas['PurchaseResult']>();
  const [codes, setCodes] = useState<string[]>([]);
  const money = useCouponMoney();
  const qc = useQueryClient();
  const submitting = useRef(false);
  const amount = Form.useWatch('amount', form);
  const items = Form.useWatch('items', form);
  const store = Form.useWatch('store', form);
  const cartOf = (v: PurchaseForm, withCodes: string[]): Cart => ({
    member_id: memberId,
    amount: toMinor(v.amount ?? 0, currency),
    items: itemsOf(v.items),
    store: v.store?.trim() || undefined,
    coupon_codes: withCodes,
  });
  // What the listed codes would do for the cart as it stands, checked once typing settles.
  const cart = useSettled(cartOf({ amount, items, store }, codes), 250);
  const check = useQuery({
    queryKey: couponKeys.check(cart),
    queryFn: () => validateCoupons(cart),
    enabled: cart.coupon_codes.length > 0 && typeof amount === 'number',
    placeholderData: keepPreviousData,
    staleTime: 5_000,
    retry: false,
  });
  const checked = codes.length > 0 ? check.data : undefined;
  const record = useMutation({
    mutationFn: (v: PurchaseForm) =>
      recordPurchase({
        external_id: key,
        member_id: memberId,
        amount: toMinor(v.amount ?? 0, currency),
        items: itemsOf(v.items),
        store: v.store?.trim() || undefined,
        coupon_codes: codes.length ? codes : undefined,
      }),
    onSuccess: (r) => {
      setDone(r);
      onDone();
      void qc.invalidateQueries({ queryKey: couponKeys.member(memberId) });
    },
    onError: (err) => {
      if (err instanceof ApiProblem && err.code === 'coupon_not_applicable') {
        setError(t('desk.coupons.refused', { code: String(err.params.code ?? ''), reason: reasonText(t, String(err.params.reason ?? '')) }));
        void qc.invalidateQueries({ queryKey: couponKeys.all });
        return;
      }
      setError(applyServerErrors(t, form, err, ['amount', 'items', 'store']));
    },
  });
  const submit = async (v: PurchaseForm) => {
    // A second submit while the first is on its way is the same purchase: ignore it.
    if (record.isPending || submitting.current) return;
    submitting.current = true;
    try {
      setError(undefined);
      if (codes.length) {
        // The codes are checked against the cart as recorded, not the one last shown.
        const c = cartOf(v, codes);
        const answer = await qc.fetchQuery({ queryKey: couponKeys.check(c), queryFn: () => validateCoupons(c), staleTime: 5_000, retry: false });
        if (!answer.applicable) {
          setError(t('desk.coupons.fix'));
          return;
        }
      }
      record.mutate(v);
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      submitting.current = false;
    }
  };
  // Rule coupons by their template's name (fetched only when a rule gave or tried to give one).
  const ruleCoupons = done?.rule_coupons ?? [];
  const templates = useQuery({
    queryKey: couponKeys.templates(),
    queryFn: fetchTemplates,
    enabled: ruleCoupons.length > 0,
    retry: false,
  });
  const templateName = (id: string) => templates.data?.find((x) => x.id === id)?.name ?? t('desk.coupons.unknownTemplate');
  if (done) {
    return (
      <Modal open title={t('desk.purchase.title')} onCancel={onClose} onOk={onClose} cancelButtonProps={{ style: { display: 'none' } }} okText={t('desk.close')}>
        <div data-testid="purchase-result">
        <Result
          status="success"
          title={t('desk.purchase.earned', { points: done.points })}
          extra={
            <Descriptions column={1} size="small">
              {done.discount > 0 && (
                <Descriptions.Item label={t('desk.coupons.original')}>{formatMoney(done.amount + done.discount, currency, i18n.language)}</Descriptions.Item>
              )}
              {done.discount > 0 && (
                <Descriptions.Item label={t('desk.coupons.discount')}>
                  <span data-testid="purchase-discount">{formatMoney(done.discount, currency, i18n.language)}</span>
                </Descriptions.Item>
              )}
              <Descriptions.Item label={done.coupons.length ? t('desk.coupons.payable') : t('desk.purchase.amount')}>
                <span data-testid="purchase-paid">{formatMoney(done.amount, currency, i18n.language)}</span>
              </Descriptions.Item>
              {done.coupons.length > 0 && (
                <Descriptions.Item label={t('desk.coupons.results')}>
                  <div data-testid="purchase-coupons">
                    {done.coupons.map((c) => (
                      <div key={c.code} data-testid={`purchase-coupon-${c.code}`}>
                        <Typography.Text code>{c.code}</Typography.Text> {c.template_name ?? ''}{' '}
                        <Typography.Text type={c.applied ? 'success' : 'danger'}>{effectText(t, money, c)}</Typography.Text>
                        {c.issued_code && <span style={{ whiteSpace: 'nowrap' }}> · {t('desk.coupons.issued', { code: c.issued_code })}</span>}
                      </div>
                    ))}
                  </div>
                </Descriptions.Item>
              )}
              <Descriptions.Item label={t('desk.summary.balance')}>{done.balance}</Descriptions.Item>
              {done.tier && <Descriptions.Item label={t('desk.summary.tier')}>{tierName(done.tier)}</Descriptions.Item>}
              {ruleCoupons.length > 0 && (
                <Descriptions.Item label={t('desk.purchase.ruleCoupons')}>
                  <span data-testid="purchase-rule-coupons">
                    {ruleCoupons
                      .map((c) =>
                        c.given
                          ? `${templateName(c.template_id)} ${c.code ?? ''}`.trim()
                          : t('desk.coupons.ruleNotGiven', { name: templateName(c.template_id) }),
                      )
                      .join('; ')}
                  </span>
                </Descriptions.Item>
              )}
            </Descriptions>
          }
        />
        </div>
      </Modal>
    );
  }
  return (
    <Modal
      open
      title={t('desk.purchase.title')}
      onCancel={onClose}
      okText={t('desk.purchase.submit')}
      okButtonProps={{ 'data-testid': 'purchase-submit' } as Record<`data-${string}`, string>}
      cancelText={t('common.cancel')}
      confirmLoading={record.isPending}
      onOk={() => form.submit()}
      style={{ top: 24 }}
    >
      <Form<PurchaseForm>
        form={form}
        layout="vertical"
        name="desk-purchase"
        onFinish={(v) => void submit(v)}
      >
        <Form.Item
          name="amount"
          label={t('desk.purchase.amount')}
          extra={t('desk.purchase.amountHelp', { currency })}
          rules={[{ required: true, message: t('validation.required') }]}
        >
          <InputNumber min={0} precision={2} style={{ width: '100%' }} autoFocus inputMode="decimal" />
        </Form.Item>
        <Row gutter={12}>
          <Col xs={24} sm={14}>
            <Form.Item name="items" label={t('desk.purchase.items')}>
              <Select mode="tags" open={false} suffixIcon={null} placeholder={t('desk.purchase.itemsHelp')} />
            </Form.Item>
          </Col>
          <Col xs={24} sm={10}>
            <Form.Item name="store" label={t('desk.purchase.store')}>
              <Input maxLength={100} />
            </Form.Item>
          </Col>
        </Row>
      </Form>
      <Divider style={{ margin: '0 0 12px' }} />
      <CouponEntry
        memberId={memberId}
        codes={codes}
        onChange={setCodes}
        check={checked}
        checking={check.isFetching}
        waiting={typeof amount === 'number' ? undefined : t('desk.coupons.needAmount')}
      />
      {codes.length > 0 && check.isError && (
        <Typography.Paragraph type="danger" role="alert" data-testid="desk-coupon-error">
          {errorText(t, check.error)}
        </Typography.Paragraph>
      )}
      {error && (
        <Typography.Paragraph type="danger" role="alert" style={{ marginTop: 8, marginBottom: 0 }}>
          {error}
        </Typography.Paragraph>
      )}
    </Modal>
  );
}
