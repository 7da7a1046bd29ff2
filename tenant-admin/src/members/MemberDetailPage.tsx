// One member: the desk's summary and quick actions on top, then profile (built-in and
// custom fields), points, tier, cards and the change log, one tab each; erasing the member
// for those allowed, under "more", confirmed by typing the member's name.
import { useState } from 'react';
import { Alert, App, Button, Dropdown, Input, Modal, Result, Space, Spin, Tabs, Tag, Typography } from 'antd';
import { DeleteOutlined, MoreOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { ApiProblem } from '../api/errors';
import { errorText } from '../common/forms';
import { useAuth } from '../auth/AuthContext';
import { MemberPoints } from '../points/MemberPoints';
import { MemberTier } from '../tiers/MemberTier';
import { MemberPrepaid } from '../prepaid/MemberPrepaid';
import { MemberMallOrders } from '../mall/MemberMallOrders';
import { MemberCoupons } from '../coupons/MemberCoupons';
import { deskKeys, fetchMemberSummary } from '../desk/api';
import { MemberSummaryCard } from '../desk/MemberSummaryCard';
import { QuickActions } from '../desk/QuickActions';
import { eraseMember, fetchMember, membersKeys } from './api';
import { AuditTab } from './AuditTab';
import { CardsTab } from './CardsTab';
import { ProfileTab } from './ProfileTab';
import './members.css';
import { MemberConversations } from '../conversations/MemberConversations';

/** One member: profile (built-in and custom fields), cards, points and the change log. */
export function MemberDetailPage() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [erasing, setErasing] = useState(false);
  const [typed, setTyped] = useState('');
  const member = useQuery({
    queryKey: membersKeys.detail(id),
    queryFn: () => fetchMember(id),
  });
  const active = member.data?.status === 'active';
  const summary = useQuery({
    queryKey: deskKeys.summary(id),
    queryFn: () => fetchMemberSummary(id),
    enabled: active,
  });
  const erase = useMutation({
    mutationFn: () => eraseMember(id),
    onSuccess: (m) => {
      qc.setQueryData(membersKeys.detail(id), m);
      setErasing(false);
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
            <Dropdown
              trigger={['click']}
              menu={{
                items: [
                  {
                    key: 'erase',
                    danger: true,
                    icon: <DeleteOutlined />,
                    label: t('desk.member.erase'),
                    onClick: () => {
                      setTyped('');
                      setErasing(true);
                    },
                  },
                ],
              }}
            >
              <Button icon={<MoreOutlined />} data-testid="member-more">
                {t('desk.member.more')}
              </Button>
            </Dropdown>
          )}
        </Space>
      </div>
      {erased && <Alert type="info" showIcon message={t('members.erasedNote', { at: m.erased_at ?? '' })} style={{ marginBottom: 16 }} />}
      {summary.data && (
        <Space direction="vertical" size={12} style={{ width: '100%', marginBottom: 16 }}>
          <MemberSummaryCard summary={summary.data} />
          <QuickActions memberId={m.id} balance={summary.data.balance} summary={summary.data} />
        </Space>
      )}
      {erasing && (
        <Modal
          open
          title={t('desk.member.eraseTitle', { name: m.name })}
          okText={t('members.erase')}
          okButtonProps={{ danger: true, disabled: typed.trim() !== m.name.trim(), loading: erase.isPending }}
          cancelText={t('common.cancel')}
          onCancel={() => setErasing(false)}
          onOk={() => erase.mutate()}
        >
          <Typography.Paragraph>{t('members.eraseConfirm')}</Typography.Paragraph>
          <Typography.Paragraph strong>{t('desk.member.eraseType', { name: m.name })}</Typography.Paragraph>
          <Input
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            data-testid="erase-name"
            status={typed && typed.trim() !== m.name.trim() ? 'error' : undefined}
            aria-label={t('desk.member.eraseType', { name: m.name })}
          />
        </Modal>
      )}
      <Tabs
        defaultActiveKey="profile"
        destroyOnHidden
        items={[
          { key: 'profile', label: t('members.tabs.profile'), children: <ProfileTab member={m} /> },
          { key: 'points', label: t('members.tabs.points'), children: <MemberPoints memberId={m.id} /> },
          { key: 'tier', label: t('tiers.member.title'), children: <MemberTier memberId={m.id} /> },
          { key: 'prepaid', label: t('prepaid.tab'), children: <MemberPrepaid memberId={m.id} /> },
          { key: 'mall', label: t('mall.tab'), children: <MemberMallOrders memberId={m.id} /> },
          { key: 'coupons', label: t('coupons.member.tab'), children: <MemberCoupons memberId={m.id} /> },
          { key: 'conversations', label: t('conversations.nav'), children: <MemberConversations memberId={m.id} /> },
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
