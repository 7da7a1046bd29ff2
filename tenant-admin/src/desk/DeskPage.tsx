// The front-desk workbench: one search-or-scan box (autofocused; a scanner's keystrokes
// typed anywhere on the page land in it), a single hit opened at once, several as a pick
// list; then the member's summary and the quick actions. A member registered from here
// comes back here (`?member=`).
import { useCallback, useEffect, useRef, useState } from 'react';
import { flushSync } from 'react-dom';
import { Alert, Button, Card, Empty, Input, List, Space, Tag, Typography, type InputRef } from 'antd';
import { ScanOutlined, UserAddOutlined } from '@ant-design/icons';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { ApiProblem } from '../api/errors';
import { errorText } from '../common/forms';
import { useAuth } from '../auth/AuthContext';
import { deskKeys, deskLookup, fetchMemberSummary, type DeskMatch } from './api';
import { MemberSummaryCard } from './MemberSummaryCard';
import { nameIn } from '../common/format';
import { QuickActions } from './QuickActions';
import { capturesKey } from './scanner';
import './desk.css';

export function DeskPage() {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const [params, setParams] = useSearchParams();
  const memberId = params.get('member') ?? undefined;
  const [q, setQ] = useState('');
  const [matches, setMatches] = useState<DeskMatch[]>();
  const [error, setError] = useState<string>();
  const box = useRef<InputRef>(null);
  // The box holds a text already searched: the next scan replaces it.
  const searched = useRef(false);

  const open = useCallback(
    (id: string | undefined) => {
      setParams(id ? { member: id } : {}, { replace: false });
    },
    [setParams],
  );

  const pick = (id: string) => {
    setMatches(undefined);
    open(id);
  };

  const lookup = useMutation({
    mutationFn: (text: string) => deskLookup(text),
    onSuccess: (r) => {
      if (r.matches.length === 1) {
        setMatches(undefined);
        open(r.matches[0]!.id);
        setQ('');
      } else {
        setMatches(r.matches);
        open(undefined);
      }
    },
    onError: (err) => {
      setMatches(undefined);
      if (err instanceof ApiProblem && err.code.startsWith('member_code_')) {
        setError(t(`desk.errors.${err.code}`, { defaultValue: err.message }));
      } else {
        setError(errorText(t, err));
      }
    },
  });

  const search = () => {
    const text = q.trim();
    if (!text) return;
    setError(undefined);
    searched.current = true;
    lookup.mutate(text);
  };

  // A scanner types on whatever has the focus: keys typed outside a field go to the box.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const dialogOpen = document.querySelector('.ant-modal-wrap:not([style*="display: none"])') !== null;
      if (!capturesKey(e, e.target as HTMLElement | null, dialogOpen)) return;
      e.preventDefault();
      // Written before the next keystroke arrives, which the focused box then takes itself.
      const fresh = searched.current;
      searched.current = false;
      flushSync(() => setQ((v) => (fresh ? '' : v) + e.key));
      const input = box.current?.input;
      input?.focus();
      input?.setSelectionRange(input.value.length, input.value.length);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const summary = useQuery({
    queryKey: deskKeys.summary(memberId ?? ''),
    queryFn: () => fetchMemberSummary(memberId!),
    enabled: Boolean(memberId),
  });

  return (
    <div className="desk" data-testid="desk">
      <div className="page-toolbar">
        <Typography.Title level={2} style={{ margin: 0 }}>
          {t('desk.title')}
        </Typography.Title>
        {can('members:write') && (
          <Link to="/members/new?back=desk">
            <Button icon={<UserAddOutlined />} data-testid="desk-register">
              {t('desk.register')}
            </Button>
          </Link>
        )}
      </div>
      <Card size="small" style={{ marginBottom: 16 }}>
        <Input.Search
          ref={box}
          autoFocus
          size="large"
          allowClear
          value={q}
          onChange={(e) => {
            searched.current = false;
            setQ(e.target.value);
          }}
          onSearch={search}
          loading={lookup.isPending}
          enterButton={t('desk.search')}
          prefix={<ScanOutlined />}
          placeholder={t('desk.placeholder')}
          aria-label={t('desk.placeholder')}
          data-testid="desk-box"
          autoComplete="off"
        />
        {error && <Alert type="error" showIcon message={error} style={{ marginTop: 12 }} role="alert" data-testid="desk-error" />}
      </Card>

      {matches && matches.length === 0 && <Empty description={t('desk.noMatch')} data-testid="desk-no-match" />}
      {matches && matches.length > 1 && (
        <Card size="small" title={t('desk.pick', { count: matches.length })} style={{ marginBottom: 16 }}>
          <List<DeskMatch>
            data-testid="desk-matches"
            dataSource={matches}
            renderItem={(m) => (
              <List.Item
                className="desk-match"
                data-testid="desk-match"
                onClick={() => pick(m.id)}
                actions={[
                  <Button key="open" type="link" onClick={() => pick(m.id)}>
                    {t('desk.open')}
                  </Button>,
                ]}
              >
                <List.Item.Meta
                  title={m.name}
                  description={
                    <Space wrap size={4}>
                      <span className="mono">{m.phone_masked ?? '—'}</span>
                      {m.tier_name && <Tag>{nameIn(m.tier_name, i18n.language)}</Tag>}
                      <span>{t('desk.matchBalance', { balance: m.balance })}</span>
                    </Space>
                  }
                />
              </List.Item>
            )}
          />
        </Card>
      )}

      {memberId && summary.isError && <Alert type="error" showIcon message={errorText(t, summary.error)} />}
      {memberId && summary.data && (
        <Space direction="vertical" size={12} style={{ width: '100%' }}>
          <QuickActions memberId={summary.data.id} balance={summary.data.balance} summary={summary.data} />
          <MemberSummaryCard
            summary={summary.data}
            extra={<Link to={`/members/${summary.data.id}`}>{t('desk.details')}</Link>}
          />
        </Space>
      )}
      {!memberId && !matches && <Typography.Paragraph type="secondary">{t('desk.hint')}</Typography.Paragraph>}
    </div>
  );
}
