// Recording a purchase at the desk: the amount in yuan (major units), optional item lines
// (their sum fills the amount) and store, and coupon codes (each checked against the cart
// before the clerk records it, and held for this cart while the dialog is open). One
// idempotency key (the purchase's external id) and one cart id (the coupons' holds) per
// open dialog, so a double click or a retry never records twice; the answer shows the
// points earned, the tier, what each coupon took off, the coupons a point rule gave and
// what was paid.
import { useEffect, useMemo, useRef, useState } from 'react';
import { Button, Descriptions, Divider, Form, Input, InputNumber, Modal, Result, Typography } from 'antd';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiProblem } from '../api/errors';
import { applyServerErrors, errorText } from '../common/forms';
import { couponKeys, fetchMemberCoupons, fetchTemplates, validateCoupons } from '../coupons/api';
import { reasonText } from '../coupons/terms';
import { useCouponMoney } from '../coupons/money';
import { formatMoney } from '../ops/format';
import { useAuth } from '../auth/AuthContext';
import { newIdempotencyKey } from '../points/cursor';
import { toMinor } from '../points/reasons';
import type { Schemas } from '../api/client';
import { recordPurchase } from './api';
import { CouponEntry, effectText } from './CouponEntry';
import { ItemLines } from './ItemLines';
import { itemErrorTargets, itemsOf, linesTotal, toMajor, type ItemLine } from './items';
import { newCartId, type HoldContext } from './holds';
import { useCouponHolds } from './useCouponHolds';
import { useSettled } from './useSettled';

interface PurchaseForm {
  amount?: number | null;
  items?: ItemLine[];
  store?: string;
}

type Cart = Schemas['CouponCart'];

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
  // The cart's id: the coupons listed are held under it while the dialog is open.
  const [cartId] = useState(() => newCartId());
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
    items: itemsOf(v.items, currency).items,
    store: v.store?.trim() || undefined,
    coupon_codes: withCodes,
    coupon_reservation: cartId,
  });
  // The lines' sum fills the amount while the amount follows it (empty, or the last sum).
  const total = linesTotal(items, currency);
  const followed = useRef<number>();
  useEffect(() => {
    const last = followed.current;
    followed.current = total;
    if (total === undefined || total === last) return;
    const typed = form.getFieldValue('amount') as number | null | undefined;
    if (typeof typed !== 'number' || (last !== undefined && toMinor(typed, currency) === last)) {
      form.setFieldValue('amount', toMajor(total, currency));
    }
  }, [total, currency, form]);
  const differs = total !== undefined && typeof amount === 'number' && toMinor(amount, currency) !== total;
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
  // Which codes to hold: the member's usable coupons at once, other codes once checked
  // (never the business's public codes, which are not coupons until the purchase).
  const mine = useQuery({ queryKey: couponKeys.member(memberId), queryFn: () => fetchMemberCoupons(memberId), retry: false });
  const templates = useQuery({ queryKey: couponKeys.templates(), queryFn: fetchTemplates, enabled: codes.length > 0, retry: false });
  const holdContext: HoldContext = useMemo(
    () => ({
      own: new Set((mine.data ?? []).filter((c) => c.status === 'issued').map((c) => c.code)),
      shared: templates.data
        ? new Set(templates.data.map((x) => x.shared_code?.toUpperCase()).filter((x): x is string => !!x))
        : templates.isError
          ? new Set<string>()
          : undefined,
      reason: (code: string) => checked?.coupons.find((r) => r.code === code),
    }),
    [mine.data, templates.data, templates.isError, checked],
  );
  const holds = useCouponHolds(cartId, codes, holdContext, !done);
  const record = useMutation({
    mutationFn: (v: PurchaseForm) =>
      recordPurchase({
        external_id: key,
        member_id: memberId,
        amount: toMinor(v.amount ?? 0, currency),
        items: itemsOf(v.items, currency).items,
        store: v.store?.trim() || undefined,
        coupon_codes: codes.length ? codes : undefined,
        coupon_reservation: codes.length ? cartId : undefined,
      }),
    onSuccess: (r) => {
      setDone(r);
      onDone();
      void qc.invalidateQueries({ queryKey: couponKeys.member(memberId) });
    },
    onError: (err, v) => {
      if (err instanceof ApiProblem && err.code === 'coupon_not_applicable') {
        const code = String(err.params.code ?? '');
        const hold = holds[code];
        const until = hold?.state === 'taken' ? hold.until : undefined;
        setError(t('desk.coupons.refused', { code, reason: reasonText(t, String(err.params.reason ?? ''), until) }));
        void qc.invalidateQueries({ queryKey: couponKeys.all });
        return;
      }
      setError(showServerErrors(err, v));
    },
  });
  // A problem on `items[i].unit_price` goes to the price of the line the item came from; one
  // on the list as a whole (too many items) to the dialog's message.
  const showServerErrors = (err: unknown, v: PurchaseForm) => {
    const lines = itemErrorTargets(itemsOf(v.items, currency).lines);
    return applyServerErrors(t, form, err, ['amount', 'store', ...lines.names], lines.alias);
  };
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
      setError(showServerErrors(err, v));
    } finally {
      submitting.current = false;
    }
  };
  // Rule coupons by their template's name (fetched only when a rule gave or tried to give one).
  const ruleCoupons = done?.rule_coupons ?? [];
  const ruleTemplates = useQuery({
    queryKey: couponKeys.templates(),
    queryFn: fetchTemplates,
    enabled: ruleCoupons.length > 0,
    retry: false,
  });
  const templateName = (id: string) => ruleTemplates.data?.find((x) => x.id === id)?.name ?? t('desk.coupons.unknownTemplate');
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
      width={720}
    >
      <Form<PurchaseForm>
        form={form}
        layout="vertical"
        name="desk-purchase"
        onFinish={(v) => void submit(v)}
      >
        <div className="desk-purchase-head">
          <Form.Item
            name="amount"
            label={t('desk.purchase.amount')}
            extra={
              differs ? (
                <span className="desk-amount-differs" data-testid="desk-amount-differs">
                  <Typography.Text type="warning">
                    {t('desk.items.differs', { total: formatMoney(total ?? 0, currency, i18n.language) })}
                  </Typography.Text>{' '}
                  <Button
                    type="link"
                    size="small"
                    className="desk-amount-use-total"
                    onClick={() => form.setFieldValue('amount', toMajor(total ?? 0, currency))}
                    data-testid="desk-amount-use-total"
                  >
                    {t('desk.items.useTotal')}
                  </Button>
                </span>
              ) : (
                t('desk.purchase.amountHelp', { currency })
              )
            }
            rules={[{ required: true, message: t('validation.required') }]}
          >
            <InputNumber min={0} precision={2} style={{ width: '100%' }} autoFocus inputMode="decimal" />
          </Form.Item>
          <Form.Item name="store" label={t('desk.purchase.store')}>
            <Input maxLength={100} />
          </Form.Item>
        </div>
        <ItemLines currency={currency} total={total} />
      </Form>
      <Divider style={{ margin: '0 0 12px' }} />
      <CouponEntry
        memberId={memberId}
        codes={codes}
        holds={holds}
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
