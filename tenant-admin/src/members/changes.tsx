// How a member's history reads on the member page (cards and change log): who did it, and
// a changed value.
import { Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useAuth } from '../auth/AuthContext';
import { fetchStaff, staffKeys } from '../staff/api';

export const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Who did it: staff by name when the caller may see staff, members and the rest as recorded. */
export function useActorName(): (actor: string | null | undefined) => string {
  const { t } = useTranslation();
  const { can } = useAuth();
  const staff = useQuery({ queryKey: staffKeys.list(), queryFn: fetchStaff, enabled: can('staff:read'), staleTime: 60_000 });
  return (actor) => {
    if (!actor) return '';
    const [kind, id] = actor.split(':', 2);
    if (kind === 'staff') return staff.data?.find((x) => x.id === id)?.name ?? actor;
    if (kind === 'member') return t('members.actorMember');
    if (kind === 'system') return t('lang.systemActor');
    return actor;
  };
}

/** A value before or after a change, as text. */
export function Detail({ value }: { value: unknown }) {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return <>{String(value)}</>;
  if (isObj(value) && Object.keys(value).length === 0) return null;
  return (
    <Typography.Text code style={{ whiteSpace: 'pre-wrap', fontSize: 12 }}>
      {JSON.stringify(value)}
    </Typography.Text>
  );
}
