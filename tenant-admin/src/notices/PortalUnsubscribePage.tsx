// The page an unsubscribe link opens (no login): turns the member's marketing e-mail off.
import { useEffect } from 'react';
import { Result, Spin } from 'antd';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { ApiProblem } from '../api/errors';
import { errorText } from '../common/forms';
import { usePortal } from '../portal/PortalRoutes';
import { unsubscribe } from './api';

export function PortalUnsubscribePage() {
  const { t } = useTranslation();
  const { slug } = usePortal();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const run = useMutation({ mutationFn: () => unsubscribe(slug, token) });
  const { mutate } = run;
  useEffect(() => mutate(), [mutate]);
  if (run.isIdle || run.isPending) return <Spin tip={t('inbox.unsubscribing')} style={{ display: 'block', margin: 48 }} />;
  if (run.isError) {
    const invalid = run.error instanceof ApiProblem && run.error.status === 422;
    return (
      <div data-testid="unsubscribe-failed">
        <Result status="error" title={t('inbox.unsubscribeTitle')} subTitle={invalid ? t('inbox.unsubscribeInvalid') : errorText(t, run.error)} />
      </div>
    );
  }
  return (
    <div data-testid="unsubscribed">
      <Result status="success" title={t('inbox.unsubscribed')} subTitle={t('inbox.unsubscribeHelp')} />
    </div>
  );
}
