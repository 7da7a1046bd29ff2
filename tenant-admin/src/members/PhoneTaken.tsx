// When a phone is already another member's (`phone_taken`): finds that member by the phone
// and offers to open them, so the clerk does not register the same person twice.
import { Alert, Button } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { ApiProblem } from '../api/errors';
import { membersKeys, searchMembers } from './api';

/** The phone a failed write was refused for, when it was refused as taken. */
export function takenPhone(err: unknown, phone: string | undefined): string | undefined {
  if (!(err instanceof ApiProblem) || err.code !== 'phone_taken') return undefined;
  const p = (phone ?? '').trim();
  return p === '' ? undefined : p;
}

export function PhoneTaken({ phone, except }: { phone: string; except?: string }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const found = useQuery({
    queryKey: [...membersKeys.all, 'phone-taken', phone],
    queryFn: () => searchMembers({ phone, tags: [], custom: [], ids: [], sort: 'created', descending: false, limit: 2 }),
  });
  const other = found.data?.items.find((m) => m.id !== except);
  return (
    <Alert
      type="warning"
      showIcon
      role="alert"
      data-testid="phone-taken"
      style={{ marginBottom: 16 }}
      message={t('lang.phoneTaken.title')}
      description={other ? t('lang.phoneTaken.who', { name: other.name }) : undefined}
      action={
        other && (
          <Button size="small" type="primary" onClick={() => navigate(`/members/${other.id}`)} data-testid="phone-taken-open">
            {t('lang.phoneTaken.open')}
          </Button>
        )
      }
    />
  );
}
