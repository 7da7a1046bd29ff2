import { useMemo, useRef, useState } from 'react';
import { Alert, App, Button, Card, Descriptions, Empty, Form, Input, Modal, Popconfirm, Result, Space, Spin, Table, Tabs, Tag, Typography } from 'antd';
import { DeleteOutlined } from '@ant-design/icons';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { api, call, type Schemas } from '../api/client';
import { ApiProblem } from '../api/errors';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { CustomForm, type CustomFormHandle } from '../fields/CustomForm';
import { useFields } from '../fields/queries';
import { cleanValues, type ErrorTree } from '../fields/schema';
import { MemberPoints } from '../points/MemberPoints';
import { MemberTier } from '../tiers/MemberTier';
import { memberProblems } from './errors';
import { memberChange, profileOf, PROFILE_ITEMS, ProfileItems, type Member, type ProfileValues } from './profile';
import './members.css';

type Card = Schemas['CardView'];
type CardEvent = Schemas['CardEventView'];
type AuditRow = Schemas['MemberAuditView'];

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Who did it: staff by name when the caller may see staff, members and the rest as recorded. */
function useActorName(): (actor: string) => string {
  const { t } = useTranslation();
  const { can } = useAuth();
  const staff = useQuery({ queryKey: ['staff'], queryFn: () => call(api.GET('/staff')), enabled: can('staff:read'), staleTime: 60_000 });
  return (actor: string) => {
    const [kind, id] = actor.split(':', 2);
    if (kind === 'staff') return staff.data?.find((x) => x.id === id)?.name ?? actor;
    if (kind === 'member') return t('members.actorMember');
    return actor;
  };
}

/** One member: profile (built-in and custom fields), cards, points and the change log. */
export function MemberDetailPage() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const { message, modal } = App.useApp();
  const member = useQuery({
    queryKey: ['members', id],
    queryFn: () => call(api.GET('/members/{id}', { params: { path: { id } } })),
  });
  const erase = useMutation({
    mutationFn: () => call(api.POST('/members/{id}/erase', { params: { path: { id } } })),
    onSuccess: (m) => {
      qc.setQueryData(['members', id], m);
      void qc.invalidateQueries({ queryKey: ['members', 'search'] });
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

function ProfileTab({ member }: { member: Member }) {
  const { t, i18n } = useTranslation();
  const { can, me } = useAuth();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm<ProfileValues>();
  const fields = useFields();
  const writable = can('members:write') && member.status !== 'erased';
  const before = useMemo(() => profileOf(member), [member]);
  const customBefore = useMemo(() => (isObj(member.custom) ? member.custom : {}), [member.custom]);
  const [custom, setCustom] = useState<Record<string, unknown>>(customBefore);
  const customRef = useRef<CustomFormHandle>(null);
  const [customErrors, setCustomErrors] = useState<ErrorTree>();
  const [error, setError] = useState<string>();

  // Changing a verified phone takes a code sent to the new number, unless the caller may
  // change sensitive data.
  const newPhone = Form.useWatch('phone', form) as string | undefined;
  const needsCode =
    member.phone_verified && !can('members:manage_sensitive') && (newPhone ?? '').trim() !== '' && (newPhone ?? '').trim() !== (before.phone ?? '');
  const [phoneCode, setPhoneCode] = useState('');
  const sendCode = useMutation({
    mutationFn: (phone: string) => call(api.POST('/members/{id}/phone-code', { params: { path: { id: member.id } }, body: { phone } })),
    onSuccess: () => void message.success(t('members.codeSent')),
    onError: (err) => {
      const r = memberProblems(t, form, err, PROFILE_ITEMS);
      if (r.message) void message.error(r.message);
    },
  });

  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      call(api.PATCH('/members/{id}', { params: { path: { id: member.id } }, body: body as Schemas['MemberChange'] })),
    onSuccess: (m) => {
      qc.setQueryData(['members', member.id], m);
      void qc.invalidateQueries({ queryKey: ['members', 'search'] });
      void qc.invalidateQueries({ queryKey: ['members', member.id, 'audit'] });
      form.setFieldsValue(profileOf(m));
      setCustom(isObj(m.custom) ? m.custom : {});
      void message.success(t('common.saved'));
    },
    onError: (err) => {
      const r = memberProblems(t, form, err, PROFILE_ITEMS);
      setCustomErrors(r.custom);
      setError(r.message);
    },
  });

  const archived = isObj(member.archived) ? Object.entries(member.archived) : [];
  return (
    <Card style={{ maxWidth: 760 }}>
      {error && <Alert type="error" showIcon role="alert" message={error} style={{ marginBottom: 16 }} />}
      <Descriptions size="small" column={{ xs: 1, sm: 2 }} style={{ marginBottom: 16 }}>
        <Descriptions.Item label={t('members.channel')}>{t(`members.channels.${member.channel}`, { defaultValue: member.channel })}</Descriptions.Item>
        <Descriptions.Item label={t('members.registeredAt')}>{formatDateTime(member.created_at, i18n.language, me?.tenant.time_zone)}</Descriptions.Item>
        <Descriptions.Item label={t('members.phoneVerified')}>{member.phone_verified ? t('members.yes') : t('members.no')}</Descriptions.Item>
      </Descriptions>
      <Form<ProfileValues>
        form={form}
        layout="vertical"
        name="member"
        initialValues={before}
        disabled={!writable}
        onFinish={(v) => {
          setError(undefined);
          setCustomErrors(undefined);
          if (customRef.current && !customRef.current.validateForm()) return;
          const body = memberChange(before, v, customBefore, cleanValues(custom));
          if (!body) {
            void message.info(t('members.noChanges'));
            return;
          }
          if (needsCode && 'phone' in body) body.phone_code = phoneCode.trim();
          save.mutate(body);
        }}
      >
        <ProfileItems piiMasked={member.pii_masked} />
      </Form>
      {needsCode && writable && (
        <Alert
          type="info"
          style={{ marginBottom: 16 }}
          message={t('members.phoneCodeNeeded')}
          description={
            <Space.Compact style={{ width: '100%', maxWidth: 360 }}>
              <Input value={phoneCode} onChange={(e) => setPhoneCode(e.target.value)} inputMode="numeric" aria-label={t('members.phoneCode')} placeholder={t('members.phoneCode')} />
              <Button loading={sendCode.isPending} onClick={() => sendCode.mutate((newPhone ?? '').trim())}>
                {t('members.sendCode')}
              </Button>
            </Space.Compact>
          }
        />
      )}
      {fields.data && (
        <CustomForm
          ref={customRef}
          jsonSchema={fields.data.json_schema}
          uiSchema={fields.data.ui_schema}
          value={custom}
          onChange={setCustom}
          errors={customErrors}
          disabled={!writable}
        />
      )}
      {archived.length > 0 && (
        <Descriptions title={t('members.archivedValues')} size="small" column={1} bordered style={{ marginBottom: 16 }}>
          {archived.map(([k, v]) => (
            <Descriptions.Item key={k} label={k}>
              {typeof v === 'string' ? v : JSON.stringify(v)}
            </Descriptions.Item>
          ))}
        </Descriptions>
      )}
      {writable && (
        <Button type="primary" loading={save.isPending} onClick={() => form.submit()} data-testid="member-save">
          {t('common.save')}
        </Button>
      )}
    </Card>
  );
}

function CardsTab({ member }: { member: Member }) {
  const { t, i18n } = useTranslation();
  const { can, me } = useAuth();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [binding, setBinding] = useState(false);
  const cards = useQuery({
    queryKey: ['members', member.id, 'cards'],
    queryFn: () => call(api.GET('/members/{id}/cards', { params: { path: { id: member.id } } })),
  });
  const done = (text: string) => {
    void qc.invalidateQueries({ queryKey: ['members', member.id] });
    void message.success(text);
  };
  const lost = useMutation({
    mutationFn: (number: string) => call(api.POST('/cards/{number}/lost', { params: { path: { number } } })),
    onSuccess: () => done(t('members.cards.lostDone')),
    onError: (err) => void message.error(errorText(t, err)),
  });
  const reissue = useMutation({
    mutationFn: (number: string) => call(api.POST('/cards/{number}/reissue', { params: { path: { number } } })),
    onSuccess: (c) => done(t('members.cards.reissued', { number: c.number })),
    onError: (err) => void message.error(errorText(t, err)),
  });
  const writable = can('members:write') && member.status !== 'erased';
  const actorName = useActorName();
  const when = (v?: string) => formatDateTime(v, i18n.language, me?.tenant.time_zone);

  return (
    <>
      {cards.isError && <Alert type="error" showIcon message={errorText(t, cards.error)} style={{ marginBottom: 16 }} />}
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>{t('members.cards.title')}</Typography.Title>
        {writable && <Button onClick={() => setBinding(true)}>{t('members.cards.bind')}</Button>}
      </div>
      <Table<Card>
        rowKey="number"
        size="small"
        loading={cards.isPending}
        dataSource={cards.data?.cards}
        pagination={false}
        scroll={{ x: 'max-content' }}
        columns={[
          { title: t('members.cards.number'), dataIndex: 'number', render: (n: string) => <span className="mono">{n}</span> },
          {
            title: t('common.status'),
            dataIndex: 'status',
            render: (s: string) => (
              <Tag color={s === 'active' ? 'green' : s === 'lost' ? 'orange' : 'default'}>{t(`members.cards.status.${s}`, { defaultValue: s })}</Tag>
            ),
          },
          { title: t('members.cards.physical'), dataIndex: 'physical_code' },
          { title: t('members.cards.issued'), dataIndex: 'issued_at', render: when },
          { title: t('members.cards.replacedBy'), dataIndex: 'replaced_by' },
          ...(writable
            ? [
                {
                  title: t('common.actions'),
                  key: 'actions',
                  render: (_: unknown, c: Card) => (
                    <Space size={0} wrap>
                      {c.status === 'active' && (
                        <Popconfirm
                          title={t('members.cards.lostConfirm', { number: c.number })}
                          okText={t('members.cards.reportLost')}
                          cancelText={t('common.cancel')}
                          onConfirm={() => lost.mutateAsync(c.number)}
                        >
                          <Button type="link" danger>{t('members.cards.reportLost')}</Button>
                        </Popconfirm>
                      )}
                      {(c.status === 'active' || c.status === 'lost') && (
                        <Popconfirm
                          title={t('members.cards.reissueConfirm', { number: c.number })}
                          okText={t('members.cards.reissue')}
                          cancelText={t('common.cancel')}
                          onConfirm={() => reissue.mutateAsync(c.number)}
                        >
                          <Button type="link">{t('members.cards.reissue')}</Button>
                        </Popconfirm>
                      )}
                    </Space>
                  ),
                },
              ]
            : []),
        ]}
      />
      <Typography.Title level={5} style={{ marginTop: 24 }}>{t('members.cards.history')}</Typography.Title>
      <Table<CardEvent>
        rowKey={(e) => `${e.number}-${e.at}-${e.event}`}
        size="small"
        loading={cards.isPending}
        dataSource={cards.data?.history}
        pagination={false}
        scroll={{ x: 'max-content' }}
        columns={[
          { title: t('audit.at'), dataIndex: 'at', render: when },
          { title: t('members.cards.number'), dataIndex: 'number', render: (n: string) => <span className="mono">{n}</span> },
          { title: t('audit.action'), dataIndex: 'event', render: (e: string) => t(`members.cards.events.${e}`, { defaultValue: e }) },
          { title: t('audit.actor'), dataIndex: 'actor', render: actorName },
          { title: t('audit.detail'), dataIndex: 'detail', render: (d: unknown) => <Detail value={d} /> },
        ]}
      />
      {binding && <BindCardModal member={member} onClose={() => setBinding(false)} />}
    </>
  );
}

function BindCardModal({ member, onClose }: { member: Member; onClose: () => void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ physical_code: string }>();
  const [error, setError] = useState<string>();
  const bind = useMutation({
    mutationFn: (v: { physical_code: string }) =>
      call(api.POST('/members/{id}/cards/physical', { params: { path: { id: member.id } }, body: { physical_code: v.physical_code.trim() } })),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['members', member.id] });
      void message.success(t('members.cards.bound'));
      onClose();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['physical_code'])),
  });
  return (
    <Modal open title={t('members.cards.bind')} onCancel={onClose} onOk={() => form.submit()} okText={t('common.save')} cancelText={t('common.cancel')} confirmLoading={bind.isPending}>
      {error && <Typography.Paragraph type="danger" role="alert">{error}</Typography.Paragraph>}
      <Form form={form} layout="vertical" name="bind-card" onFinish={(v) => bind.mutate(v)}>
        <Form.Item name="physical_code" label={t('members.cards.physicalCode')} extra={t('members.cards.physicalHelp')} rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
          <Input autoFocus maxLength={100} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

const AUDIT_PAGE = 100;

function AuditTab({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const log = useInfiniteQuery({
    queryKey: ['members', memberId, 'audit'],
    initialPageParam: undefined as number | undefined,
    queryFn: ({ pageParam }) =>
      call(api.GET('/members/{id}/audit', { params: { path: { id: memberId }, query: { after: pageParam, limit: AUDIT_PAGE } } })),
    getNextPageParam: (last) => (last.length === AUDIT_PAGE ? last[last.length - 1]?.id : undefined),
  });
  const rows = log.data?.pages.flat() ?? [];
  const actorName = useActorName();
  if (log.isError) return <Alert type="error" showIcon message={errorText(t, log.error)} />;
  return (
    <>
      <Table<AuditRow>
        rowKey="id"
        size="small"
        loading={log.isPending}
        dataSource={rows}
        pagination={false}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: <Empty description={t('members.auditEmpty')} /> }}
        columns={[
          { title: t('audit.at'), dataIndex: 'at', render: (v: string) => formatDateTime(v, i18n.language, me?.tenant.time_zone) },
          { title: t('audit.actor'), dataIndex: 'actor', render: actorName },
          { title: t('members.channel'), dataIndex: 'channel', render: (c: string) => t(`members.channels.${c}`, { defaultValue: c }) },
          { title: t('audit.action'), dataIndex: 'action', render: (a: string) => t(`members.auditActions.${a}`, { defaultValue: a }) },
          { title: t('members.field'), dataIndex: 'field' },
          { title: t('members.before'), dataIndex: 'before', render: (v: unknown) => <Detail value={v} /> },
          { title: t('members.after'), dataIndex: 'after', render: (v: unknown) => <Detail value={v} /> },
        ]}
      />
      {log.hasNextPage && (
        <div style={{ textAlign: 'center', marginTop: 16 }}>
          <Button onClick={() => void log.fetchNextPage()} loading={log.isFetchingNextPage}>
            {t('members.loadMore')}
          </Button>
        </div>
      )}
    </>
  );
}

function Detail({ value }: { value: unknown }) {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return <>{String(value)}</>;
  if (isObj(value) && Object.keys(value).length === 0) return null;
  return (
    <Typography.Text code style={{ whiteSpace: 'pre-wrap', fontSize: 12 }}>
      {JSON.stringify(value)}
    </Typography.Text>
  );
}
