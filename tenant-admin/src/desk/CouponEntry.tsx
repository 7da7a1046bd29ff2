// Coupons at the till: the clerk picks one of the member's usable coupons or types (or
// scans) a code, Enter adding it; each code shows what it would do for this cart, checked
// by the server as the purchase would (`POST /coupons/validate`): its discount, or why it
// does not apply, in words. Below, the discount and what is left to pay. A scanner's
// keystrokes typed while no field of the dialog has the focus go to the code box, so a
// coupon's code scanned from the member's phone lands there. Each code the dialog holds for
// its cart says until when; one held at another till says so in its row.
import { useEffect, useRef, useState } from 'react';
import { flushSync } from 'react-dom';
import { Button, Input, List, Select, Space, Tag, Typography, type InputRef } from 'antd';
import { CloseOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiProblem } from '../api/errors';
import { couponKeys, fetchMemberCoupons, type CouponCheck, type CouponResult } from '../coupons/api';
import { addCode, benefitText, clockTime, MAX_CODES, reasonText } from '../coupons/terms';
import { useCouponMoney } from '../coupons/money';
import { capturesKey } from './scanner';
import type { Holds } from './holds';

type Translate = (key: string, options?: Record<string, unknown>) => string;

/**
 * What one code does, in words: its discount (or gift), or why it does not apply (held at
 * another till until `heldUntil`, when a hold was refused and said so).
 */
export function effectText(t: Translate, money: (minor: number) => string, r: CouponResult, heldUntil?: string): string {
  if (!r.applied) return reasonText(t, r.reason, heldUntil);
  if (r.kind === 'gift' && r.gift) return t('desk.coupons.gift', { gift: r.gift });
  if (r.kind === 'free_visit') return t('desk.coupons.freeVisit');
  return t('desk.coupons.off', { amount: money(r.discount) });
}

export function CouponEntry({
  memberId,
  codes,
  holds = {},
  onChange,
  check,
  checking,
  waiting,
}: {
  memberId: string;
  codes: string[];
  /** What the dialog knows of each code's hold for its cart. */
  holds?: Holds;
  onChange: (codes: string[]) => void;
  check?: CouponCheck;
  checking: boolean;
  /** Why codes are not checked yet (no amount typed), instead of "checking". */
  waiting?: string;
}) {
  const { t } = useTranslation();
  const money = useCouponMoney();
  const [typed, setTyped] = useState('');
  const box = useRef<InputRef>(null);
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      // Only keystrokes on this dialog or on nothing (not in another dialog's fields).
      const dialog = root.current?.closest('.ant-modal-wrap');
      const here = target === document.body || (target instanceof Node && dialog?.contains(target));
      if (!dialog || !here || e.key === ' ') return;
      if (!capturesKey(e, target, false)) return;
      e.preventDefault();
      flushSync(() => setTyped((v) => v + e.key));
      const input = box.current?.input;
      input?.focus();
      input?.setSelectionRange(input.value.length, input.value.length);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  const mine = useQuery({ queryKey: couponKeys.member(memberId), queryFn: () => fetchMemberCoupons(memberId), retry: false });
  const usable = (mine.data ?? []).filter((c) => c.status === 'issued' && !codes.includes(c.code));
  const full = codes.length >= MAX_CODES;
  const add = () => {
    onChange(addCode(codes, typed));
    setTyped('');
  };
  // The answer for a code, when the check is of the codes now listed.
  const resultOf = (code: string) => check?.coupons.find((r) => r.code === code);
  // A plan without coupons: the till has none to offer.
  if (mine.error instanceof ApiProblem && mine.error.status === 402) return null;
  return (
    <div data-testid="desk-coupons" className="desk-coupons" ref={root}>
      <Typography.Text strong>{t('desk.coupons.title')}</Typography.Text>
      <Space direction="vertical" style={{ width: '100%', marginTop: 8 }}>
        <Select
          value={null}
          showSearch
          optionFilterProp="label"
          style={{ width: '100%' }}
          placeholder={t('desk.coupons.pickPlaceholder')}
          aria-label={t('desk.coupons.pick')}
          disabled={full}
          loading={mine.isPending}
          notFoundContent={t('desk.coupons.noneToPick')}
          onChange={(code: string | null) => code && onChange(addCode(codes, code))}
          options={usable.map((c) => ({
            value: c.code,
            label: `${c.template_name} · ${benefitText(t, money, c.terms)} · ${c.code}`,
          }))}
          data-testid="desk-coupon-pick"
        />
        <Space.Compact style={{ width: '100%' }}>
          <Input
            ref={box}
            value={typed}
            maxLength={40}
            placeholder={t('desk.coupons.codePlaceholder')}
            aria-label={t('desk.coupons.code')}
            disabled={full}
            autoComplete="off"
            onChange={(e) => setTyped(e.target.value)}
            onPressEnter={(e) => {
              // Enter adds the code; it never records the purchase.
              e.preventDefault();
              add();
            }}
            data-testid="desk-coupon-code"
          />
          <Button onClick={add} disabled={full || !typed.trim()} data-testid="desk-coupon-add">
            {t('desk.coupons.add')}
          </Button>
        </Space.Compact>
        {full && <Typography.Text type="secondary">{t('desk.coupons.max', { count: MAX_CODES })}</Typography.Text>}
      </Space>
      {codes.length > 0 && (
        <List
          size="small"
          data-testid="desk-coupon-list"
          dataSource={codes}
          renderItem={(code) => {
            const r = resultOf(code);
            const hold = holds[code];
            return (
              <List.Item
                data-testid={`desk-coupon-${code}`}
                actions={[
                  <Button
                    key="remove"
                    type="text"
                    size="small"
                    icon={<CloseOutlined />}
                    aria-label={t('desk.coupons.remove', { code })}
                    onClick={() => onChange(codes.filter((c) => c !== code))}
                    data-testid={`desk-coupon-remove-${code}`}
                  />,
                ]}
              >
                <Space wrap size={[8, 2]}>
                  <Typography.Text code>{code}</Typography.Text>
                  {r?.template_name && <span>{r.template_name}</span>}
                  {r ? (
                    <Tag color={r.applied ? 'green' : 'red'} data-testid={`desk-coupon-effect-${code}`}>
                      {effectText(t, money, r, hold?.state === 'taken' ? hold.until : undefined)}
                    </Tag>
                  ) : hold?.state === 'taken' ? (
                    // Not checked yet (no amount), but another till's hold already said so.
                    <Tag color="red" data-testid={`desk-coupon-effect-${code}`}>
                      {reasonText(t, 'reserved', hold.until)}
                    </Tag>
                  ) : (
                    <Typography.Text type="secondary">{waiting ?? t('desk.coupons.checking')}</Typography.Text>
                  )}
                  {hold?.state === 'held' && r?.applied !== false && (
                    <Typography.Text type="secondary" className="desk-coupon-hold" data-testid={`desk-coupon-hold-${code}`}>
                      {t('desk.coupons.held', { time: clockTime(hold.until) })}
                    </Typography.Text>
                  )}
                </Space>
              </List.Item>
            );
          }}
        />
      )}
      {codes.length > 0 && check && (
        <div className="desk-coupon-total" data-testid="desk-coupon-total" aria-busy={checking}>
          <span>
            {t('desk.coupons.discountLabel')}
            <strong>{money(check.discount)}</strong>
          </span>
          <span>
            {t('desk.coupons.payableLabel')}
            <strong data-testid="desk-coupon-payable">{money(check.payable)}</strong>
          </span>
        </div>
      )}
    </div>
  );
}
