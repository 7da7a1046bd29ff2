// One member: profile (built-in and custom fields), points, tier, cards and the change log,
// one tab each; erasing the member for those allowed.
import { Alert, App, Button, Result, Space, Spin, Tabs, Tag, Typography } from 'antd';
import { DeleteOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { ApiProblem } from '../api/errors';
import { errorText } from '../common/forms';
import { useAuth } from '../auth/AuthContext';
import { MemberPoints } from '../points/MemberPoints';
import { MemberTier } from '../tiers/MemberTier';
import { eraseMember, fetchMember, membersKeys } from './api';
import { AuditTab } from './AuditTab';
import { CardsTab } from './CardsTab';
import { ProfileTab } from './ProfileTab';
import './members.css';

/** One member: profile (built-in and custom fields), cards, points and the change log. */
export function MemberDetailPage() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const { message, modal } = App.useApp();
  const member = useQuery({
    queryKey: membersKeys.detail(id),
    queryFn: () => fetchMember(id),
  });
  const erase = useMutation({
    mutationFn: () => eraseMember(id),
    onSuccess: (m) => {
      qc.setQueryData(membersKeys.detail(id), m);
      void qc.invalidateQueries({ queryKey: membersKeys.searches() });
      void message.success(t('members.erased'));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });

  if (member.isPending) return <Spin style={{ display: 'block', margin: 64 }} />;
  if (member.isError) {
    const notFound = member.error instanceof ApiProblem && member.error.status === 404;
    return (
      <Result
        status={notFound ? '404' : 'error'}
        title={notFound ? t('members.notFound') : errorText(t, member.error)}
        extra={<Link to="/members">{t('members.backToList')}</Link>}
      />
    );
  }
  const m = member.data;
  const erased = m.status === 'erased';

  return (
    <>
      <div className="page-toolbar">
        <div className="member-detail-head">
          <Typography.Title level={2} style={{ margin: 0 }} data-testid="member-name">
            {m.name || t('members.erasedName')}
          </Typography.Title>
          {m.card_number && <Typography.Text className="mono" copyable data-testid="member-card">{m.card_number}</Typography.Text>}
          <Tag color={erased ? 'default' : 'green'}>{t(`members.status.${m.status}`, { defaultValue: m.status })}</Tag>
        </div>
        <Space wrap>
          <Link to="/members">{t('members.backToList')}</Link>
          {can('members:manage_sensitive') && !erased && (
            <Button
              danger
              icon={<DeleteOutlined />}
              loading={erase.isPending}
              onClick={() =>
                modal.confirm({
                  title: t('members.eraseTitle', { name: m.name }),
                  content: t('members.eraseConfirm'),
                  okText: t('members.erase'),
                  okButtonProps: { danger: true },
                  cancelText: t('common.cancel'),
                  onOk: () => erase.mutateAsync(),
                })
              }
            >
              {t('members.erase')}
            </Button>
          )}
        </Space>
      </div>
      {erased && <Alert type="info" showIcon message={t('members.erasedNote', { at: m.erased_at ?? '' })} style={{ marginBottom: 16 }} />}
      <Tabs
        defaultActiveKey="profile"
        destroyOnHidden
        items={[
          { key: 'profile', label: t('members.tabs.profile'), children: <ProfileTab member={m} /> },
          { key: 'points', label: t('members.tabs.points'), children: <MemberPoints memberId={m.id} /> },
          { key: 'tier', label: t('tiers.member.title'), children: <MemberTier memberId={m.id} /> },
          { key: 'cards', label: t('members.tabs.cards'), children: <CardsTab member={m} /> },
          { key: 'audit', label: t('members.tabs.audit'), children: <AuditTab memberId={m.id} /> },
        ]}
      />
      {erased && (
        <Button type="link" onClick={() => navigate('/members')}>
          {t('members.backToList')}
        </Button>
      )}
    </>
  );
}
