import { Button, Result, Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';

const COLORS: Record<string, string> = { open: 'orange', waiting: 'blue', closed: 'default' };

/** A thread's state, in words. */
export function StatusTag({ status }: { status: string }) {
  const { t } = useTranslation();
  return (
    <Tag color={COLORS[status] ?? 'default'} data-testid="conversation-status" data-status={status}>
      {t(`conversations.status.${status}`)}
    </Tag>
  );
}

/** Said in place of the conversations page when the business's plan does not include them. */
export function ConversationsGate() {
  const { t } = useTranslation();
  return (
    <Result
      status="info"
      title={t('conversations.gate')}
      subTitle={t('errors.feature_not_in_plan')}
      extra={
        <Link to="/plan">
          <Button>{t('prepaid.gate.plan')}</Button>
        </Link>
      }
      data-testid="conversations-gate"
    />
  );
}
