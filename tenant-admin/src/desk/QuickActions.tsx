// The clerk's quick actions on a member: record a purchase, check in, redeem, refund; each
// a dialog of its own. Whatever is recorded refreshes the member's summary and points.
import { useState } from 'react';
import { App, Button, Space } from 'antd';
import { CheckCircleOutlined, GiftOutlined, RollbackOutlined, ShoppingCartOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { errorText } from '../common/forms';
import { useAuth } from '../auth/AuthContext';
import { pointsKeys } from '../points/api';
import { couponKeys } from '../coupons/api';
import { RedeemModal } from '../points/RedeemModal';
import { checkIn, deskKeys, type MemberSummary } from './api';
import { nameIn } from '../common/format';
import { PurchaseModal } from './PurchaseModal';
import { RefundModal } from './RefundModal';

type Open = 'purchase' | 'refund' | 'redeem' | undefined;

export function QuickActions({ memberId, balance, summary }: { memberId: string; balance: number; summary?: MemberSummary }) {
  const { t, i18n } = useTranslation();
  // A tier code in an answer, by its name (the member's tier or the next one).
  const nameOf = (code: string) =>
    [summary?.tier, summary?.next_tier]
      .filter((x) => x?.code === code)
      .map((x) => nameIn(x?.name, i18n.language))[0] ?? code;
  const { can } = useAuth();
  const { message, modal } = App.useApp();
  const qc = useQueryClient();
  const [open, setOpen] = useState<Open>();
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: deskKeys.summary(memberId) });
    void qc.invalidateQueries({ queryKey: pointsKeys.member(memberId) });
    void qc.invalidateQueries({ queryKey: couponKeys.member(memberId) });
  };
  const checkedIn = useMutation({
    mutationFn: () => checkIn(memberId),
    onSuccess: (r) => {
      refresh();
      void message.success(
        r.already ? t('desk.checkIn.already') : t('desk.checkIn.done', { points: r.points, streak: r.streak }),
      );
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  if (!can('purchases:write')) return null;
  return (
    <>
      <Space wrap data-testid="quick-actions">
        <Button type="primary" icon={<ShoppingCartOutlined />} onClick={() => setOpen('purchase')} data-testid="action-purchase">
          {t('desk.actions.purchase')}
        </Button>
        <Button
          icon={<CheckCircleOutlined />}
          loading={checkedIn.isPending}
          data-testid="action-check-in"
          onClick={() =>
            modal.confirm({
              title: t('desk.checkIn.confirm'),
              okText: t('desk.actions.checkIn'),
              cancelText: t('common.cancel'),
              onOk: () => checkedIn.mutateAsync(),
            })
          }
        >
          {t('desk.actions.checkIn')}
        </Button>
        <Button icon={<GiftOutlined />} onClick={() => setOpen('redeem')} data-testid="action-redeem">
          {t('desk.actions.redeem')}
        </Button>
        <Button icon={<RollbackOutlined />} onClick={() => setOpen('refund')} data-testid="action-refund">
          {t('desk.actions.refund')}
        </Button>
      </Space>
      {open === 'purchase' && (
        <PurchaseModal memberId={memberId} onClose={() => setOpen(undefined)} onDone={refresh} tierName={nameOf} />
      )}
      {open === 'refund' && <RefundModal memberId={memberId} onClose={() => setOpen(undefined)} onDone={refresh} />}
      {open === 'redeem' && (
        <RedeemModal memberId={memberId} balance={balance} onClose={() => setOpen(undefined)} onDone={refresh} />
      )}
    </>
  );
}
