// How a member's history reads on the member page (cards and change log): who did it, and
// a changed value.
import { useSyncExternalStore } from 'react';
import { Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { resolveActors } from '../actors/api';
import { ActorStore } from '../actors/store';

export const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const actors = new ActorStore(resolveActors);

/**
 * Who did it, as people read it: staff and API keys by their names (resolved by the server,
 * for any member of staff), the member, the platform's jobs and operators in words.
 */
export function useActorName(): (actor: string | null | undefined) => string {
  const { t } = useTranslation();
  useSyncExternalStore(actors.subscribe, actors.snapshot);
  return (actor) => {
    if (!actor) return '';
    const [kind] = actor.split(':', 1);
    if (kind === 'member') return t('members.actorMember');
    if (kind === 'patron-cli') return t('actors.cli');
    const a = actors.get(actor);
    if (kind === 'system') {
      return a?.code ? t(`actors.system.${a.code}`, { defaultValue: t('lang.systemActor') }) : t('lang.systemActor');
    }
    if (a?.kind === 'api_key' && a.name) return t('actors.apiKey', { name: a.name });
    if (a?.kind === 'support') return t('actors.support');
    if (a?.kind === 'operator') return t('actors.operator', { name: a.name ?? '' });
    if (a?.name) return a.name;
    if (a === null || a?.kind === 'staff' || a?.kind === 'api_key') return t('actors.unknown');
    return a === undefined ? '…' : actor;
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
