// 营销活动: campaigns to the members a search finds, by e-mail, SMS and the portal's inbox,
// now or at a time. The list shows each campaign's status and results per channel; the
// form takes the audience, the channels, a message per channel in zh-CN and/or en, and
// the time, and previews the audience per channel and the cost against the plan's monthly
// quotas before sending. The contact budget (messages per member per 7 days) is set here.
import { useState } from 'react';
import {
  App,
  Button,
  Checkbox,
  Col,
  Descriptions,
  Drawer,
  Form,
  Grid,
  Input,
  InputNumber,
  Popconfirm,
  Radio,
  Row,
  Select,
  Space,
  Table,
  Tabs,
  Tag,
  Typography,
} from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useAuth } from '../auth/AuthContext';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { fromLocalInput } from '../activities/time';
import { toSearch, type SearchValues } from '../members/search';
import { missingFeature } from '../prepaid/parts';
import { fetchSegments, segmentKeys } from '../segments/api';
import {
  campaignKeys,
  cancelCampaign,
  CHANNELS,
  createCampaign,
  fetchCampaigns,
  fetchCampaignSettings,
  inProgress,
  openedKey,
  messagesOf,
  previewCampaign,
  saveCampaignSettings,
  type Campaign,
  type CampaignPreview,
} from './api';

const STATUS_COLOR: Record<string, string> = {
  scheduled: 'blue',
  sending: 'processing',
  done: 'green',
  stopped: 'orange',
  cancelled: 'default',
};

export function CampaignsPage() {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [creating, setCreating] = useState(false);
  const list = useQuery({
    queryKey: campaignKeys.list(),
    queryFn: fetchCampaigns,
    retry: false,
    refetchInterval: (q) => (q.state.data?.some(inProgress) ? 3000 : false),
  });
  const cancel = useMutation({
    mutationFn: (id: string) => cancelCampaign(id),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: campaignKeys.list() });
      void message.success(t('campaigns.cancelled'));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  if (missingFeature(list.error)) {
    return (
      <div data-testid="campaigns-page">
        <Typography.Title level={3}>{t('campaigns.title')}</Typography.Title>
        <Typography.Paragraph data-testid="campaigns-gate">{t('campaigns.gate')}</Typography.Paragraph>
      </div>
    );
  }
  const zone = me?.tenant.time_zone;
  return (
    <div data-testid="campaigns-page">
      <Typography.Title level={3}>{t('campaigns.title')}</Typography.Title>
      <Typography.Paragraph type="secondary">{t('campaigns.intro')}</Typography.Paragraph>
      <div className="page-toolbar">
        <Space wrap>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="campaign-new">
            {t('campaigns.new')}
          </Button>
          <BudgetSetting />
        </Space>
      </div>
      <Table<Campaign>
        size="small"
        rowKey="id"
        loading={list.isPending}
        dataSource={list.data ?? []}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: list.isError ? errorText(t, list.error) : t('campaigns.none') }}
        columns={[
          { title: t('campaigns.name'), dataIndex: 'name', render: (v: string) => <span data-testid="campaign-name">{v}</span> },
          {
            title: t('campaigns.status'),
            key: 'status',
            render: (_, c) => (
              <Tag color={STATUS_COLOR[c.status]} data-testid="campaign-status">
                {c.stop_reason ? t('campaigns.stoppedFor', { reason: t(`limits.${c.stop_reason}`, { defaultValue: c.stop_reason }) }) : t(`campaigns.statuses.${c.status}`)}
              </Tag>
            ),
          },
          {
            title: t('campaigns.sendAt'),
            key: 'send_at',
            render: (_, c) => (c.send_at ? formatDateTime(c.send_at, i18n.language, zone) : ''),
          },
          {
            title: t('campaigns.results'),
            key: 'results',
            render: (_, c) => (
              <Space direction="vertical" size={0} data-testid="campaign-results">
                {c.results.map((r) => {
                  const opened = openedKey(r.channel);
                  return (
                  <Typography.Text key={r.channel} data-testid={`campaign-result-${r.channel}`}>
                    {t(`campaigns.channels.${r.channel}`)}:{' '}
                    {t('campaigns.resultLine', { sent: r.sent, delivered: r.delivered, failed: r.failed })}
                    {r.opened == null || opened == null ? '' : ` · ${t(opened, { count: r.opened })}`}
                    {r.skipped_no_contact + r.skipped_opted_out + r.skipped_over_budget + r.skipped_quota > 0 &&
                      ` · ${t('campaigns.skippedLine', {
                        none: r.skipped_no_contact,
                        out: r.skipped_opted_out,
                        budget: r.skipped_over_budget,
                        quota: r.skipped_quota,
                      })}`}
                  </Typography.Text>
                  );
                })}
                {c.results.some((r) => r.channel === 'email') && <Typography.Text type="secondary">{t('campaigns.opensEstimate')}</Typography.Text>}
              </Space>
            ),
          },
          { title: t('campaigns.unsubscribed'), dataIndex: 'unsubscribed', align: 'right' },
          {
            title: '',
            key: 'actions',
            render: (_, c) =>
              c.status === 'scheduled' ? (
                <Popconfirm
                  title={t('campaigns.cancelConfirm')}
                  onConfirm={() => cancel.mutate(c.id)}
                  okText={t('campaigns.cancel')}
                  cancelText={t('common.cancel')}
                >
                  <Button size="small" danger data-testid="campaign-cancel">
                    {t('campaigns.cancel')}
                  </Button>
                </Popconfirm>
              ) : null,
          },
        ]}
      />
      {creating && <CampaignDrawer onClose={() => setCreating(false)} />}
    </div>
  );
}

function BudgetSetting() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: campaignKeys.settings(), queryFn: fetchCampaignSettings, retry: false });
  const [value, setValue] = useState<number | null>();
  const save = useMutation({
    mutationFn: (b: number | null) => saveCampaignSettings({ contact_budget: b ?? undefined }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: campaignKeys.settings() });
      void message.success(t('campaigns.budgetSaved'));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  const current = value === undefined ? (q.data?.contact_budget ?? null) : value;
  return (
    <Space wrap>
      <Typography.Text>{t('campaigns.budget')}</Typography.Text>
      <InputNumber
        min={1}
        max={100}
        value={current}
        placeholder={t('campaigns.noBudget')}
        onChange={(v) => setValue(v === null ? null : Number(v))}
        addonAfter={t('campaigns.budgetUnit')}
        data-testid="campaign-budget"
      />
      <Button onClick={() => save.mutate(current)} loading={save.isPending} data-testid="campaign-budget-save">
        {t('common.save')}
      </Button>
    </Space>
  );
}

interface CampaignForm extends SearchValues {
  campaign_name: string;
  audience_kind: 'filter' | 'segment';
  segment_id?: string;
  tier?: string;
  channels: string[];
  when: 'now' | 'later';
  send_at?: string;
  texts: Partial<Record<string, { subject?: string; body?: string }>>;
}

const AUDIENCE = ['tags', 'tier', 'joined_from', 'joined_to', 'birthday_from', 'birthday_to'] as const;

function CampaignDrawer({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const { me } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const screens = Grid.useBreakpoint();
  const [form] = Form.useForm<CampaignForm>();
  const [error, setError] = useState<string>();
  const [preview, setPreview] = useState<CampaignPreview>();
  const [key] = useState(() => crypto.randomUUID());
  const zone = me?.tenant.time_zone ?? 'Asia/Shanghai';
  const channels = Form.useWatch('channels', form) ?? [];
  const when = Form.useWatch('when', form) ?? 'now';
  const segments = useQuery({ queryKey: segmentKeys.list(), queryFn: fetchSegments, retry: false });
  const audienceKind = Form.useWatch('audience_kind', form) ?? 'filter';
  // The audience: the conditions of the form, or a saved segment.
  const audienceOf = (v: CampaignForm) => {
    if (v.audience_kind === 'segment') return { segment_id: v.segment_id };
    const f = toSearch(v, []);
    const tier = v.tier?.trim();
    return { filter: { ...f, ...(tier ? { tier } : {}) } };
  };
  // Problems with the messages are said above the form (they name a message by its place).
  const fieldItems = ['campaign_name', 'channels', 'send_at', 'segment_id', ...AUDIENCE];
  const aliases: Record<string, string> = {
    name: 'campaign_name',
    filter: 'segment_id',
    ...Object.fromEntries(AUDIENCE.map((k) => [`filter.${k}`, k])),
  };
  const count = useMutation({
    mutationFn: (v: CampaignForm) => previewCampaign({ ...audienceOf(v), channels: v.channels ?? [] }),
    onSuccess: (p) => setPreview(p),
    onError: (err) => setError(applyServerErrors(t, form, err, fieldItems, aliases)),
  });
  const send = useMutation({
    mutationFn: (v: CampaignForm) =>
      createCampaign({
        name: v.campaign_name ?? '',
        ...audienceOf(v),
        channels: v.channels ?? [],
        messages: messagesOf(v.channels ?? [], v.texts ?? {}),
        send_at: v.when === 'later' ? fromLocalInput(v.send_at, zone) : undefined,
        idempotency_key: key,
      }),
    onSuccess: (c) => {
      void qc.invalidateQueries({ queryKey: campaignKeys.list() });
      void message.success(c.status === 'scheduled' ? t('campaigns.scheduled') : t('campaigns.sending'));
      onClose();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, fieldItems, aliases)),
  });
  const date = <Input type="date" />;
  const textFields = (channel: string, locale: string) => (
    <>
      {channel !== 'sms' && (
        <Form.Item name={['texts', `${channel}.${locale}`, 'subject']} label={t(channel === 'email' ? 'campaigns.subject' : 'campaigns.inboxTitle')}>
          <Input maxLength={200} data-testid={`campaign-${channel}-${locale}-subject`} />
        </Form.Item>
      )}
      <Form.Item
        name={['texts', `${channel}.${locale}`, 'body']}
        label={t('campaigns.body')}
        extra={channel === 'sms' ? t('campaigns.smsHelp') : t('campaigns.variables', { a: '{{member.name}}', b: '{{member.card}}', c: '{{business.name}}', interpolation: { escapeValue: false } })}
      >
        <Input.TextArea rows={channel === 'sms' ? 2 : 4} maxLength={channel === 'sms' ? 480 : 20000} data-testid={`campaign-${channel}-${locale}-body`} />
      </Form.Item>
    </>
  );
  return (
    <Drawer
      open
      width={screens.md ? 760 : '100%'}
      title={t('campaigns.new')}
      onClose={onClose}
      data-testid="campaign-form"
      extra={
        <Space>
          <Button
            onClick={() =>
              // The audience and the channels are all a preview needs: no name or message yet.
              form
                .validateFields(PREVIEW_FIELDS)
                .then(() => count.mutate(form.getFieldsValue(true) as CampaignForm))
                .catch(() => undefined)
            }
            loading={count.isPending}
            data-testid="campaign-preview"
          >
            {t('campaigns.preview')}
          </Button>
          <Button type="primary" onClick={() => form.submit()} loading={send.isPending} data-testid="campaign-send">
            {when === 'later' ? t('campaigns.schedule') : t('campaigns.sendNow')}
          </Button>
        </Space>
      }
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert" data-testid="campaign-error">
          {error}
        </Typography.Paragraph>
      )}
      <Form<CampaignForm>
        form={form}
        layout="vertical"
        name="campaign"
        initialValues={{ channels: ['inbox'], when: 'now', texts: {}, audience_kind: 'filter' }}
        onValuesChange={() => setPreview(undefined)}
        onFinish={(v) => {
          setError(undefined);
          send.mutate(v);
        }}
      >
        <Form.Item name="campaign_name" label={t('campaigns.name')} rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
          <Input maxLength={200} data-testid="campaign-name-input" />
        </Form.Item>
        <Typography.Title level={5}>{t('campaigns.audience')}</Typography.Title>
        <Typography.Paragraph type="secondary">{t('campaigns.audienceHelp')}</Typography.Paragraph>
        {segments.isSuccess && segments.data.length > 0 && (
          <Form.Item name="audience_kind">
            <Radio.Group data-testid="campaign-audience-kind">
              <Radio value="filter">{t('campaigns.byConditions')}</Radio>
              <Radio value="segment">{t('campaigns.bySegment')}</Radio>
            </Radio.Group>
          </Form.Item>
        )}
        {audienceKind === 'segment' && (
          <Form.Item name="segment_id" label={t('campaigns.segment')} extra={t('campaigns.segmentHelp')} rules={[{ required: true, message: t('validation.required') }]}>
            <Select
              options={(segments.data ?? []).map((x) => ({ value: x.id, label: x.name }))}
              data-testid="campaign-segment"
            />
          </Form.Item>
        )}
        <Row gutter={12} style={audienceKind === 'segment' ? { display: 'none' } : undefined}>
          <Col xs={24} sm={12}>
            <Form.Item name="tags" label={t('members.f.tags')}>
              <Select mode="tags" />
            </Form.Item>
          </Col>
          <Col xs={24} sm={12}>
            <Form.Item name="tier" label={t('campaigns.tier')}>
              <Input allowClear maxLength={32} data-testid="campaign-tier" />
            </Form.Item>
          </Col>
          <Col xs={12} sm={6}>
            <Form.Item name="joined_from" label={t('members.joinedFrom')}>{date}</Form.Item>
          </Col>
          <Col xs={12} sm={6}>
            <Form.Item name="joined_to" label={t('members.joinedTo')}>{date}</Form.Item>
          </Col>
          <Col xs={12} sm={6}>
            <Form.Item name="birthday_from" label={t('members.birthdayFrom')}>{date}</Form.Item>
          </Col>
          <Col xs={12} sm={6}>
            <Form.Item name="birthday_to" label={t('members.birthdayTo')}>{date}</Form.Item>
          </Col>
        </Row>
        <Form.Item name="channels" label={t('campaigns.channelsLabel')} rules={[{ required: true, message: t('validation.required') }]}>
          <Checkbox.Group
            options={CHANNELS.map((c) => ({ value: c, label: t(`campaigns.channels.${c}`) }))}
            data-testid="campaign-channels"
          />
        </Form.Item>
        {channels.length > 0 && (
          <Form.Item label={t('campaigns.messages')} extra={t('campaigns.messagesHelp')}>
            <Tabs
              size="small"
              items={channels.flatMap((c) =>
                (['zh-CN', 'en'] as const).map((l) => ({
                  key: `${c}.${l}`,
                  label: `${t(`campaigns.channels.${c}`)} · ${t(`languages.${l}`)}`,
                  forceRender: true,
                  children: textFields(c, l),
                })),
              )}
            />
          </Form.Item>
        )}
        <Form.Item name="when" label={t('campaigns.when')}>
          <Radio.Group data-testid="campaign-when">
            <Radio value="now">{t('campaigns.now')}</Radio>
            <Radio value="later">{t('campaigns.later')}</Radio>
          </Radio.Group>
        </Form.Item>
        {when === 'later' && (
          <Form.Item name="send_at" label={t('campaigns.sendAt')} extra={t('campaigns.zone', { zone })} rules={[{ required: true, message: t('validation.required') }]}>
            <Input type="datetime-local" data-testid="campaign-send-at" />
          </Form.Item>
        )}
      </Form>
      {preview && <PreviewBox preview={preview} channels={channels} />}
    </Drawer>
  );
}

/** The fields a preview reads: who is reached, and by which channels. */
const PREVIEW_FIELDS = ['audience_kind', 'segment_id', 'tags', 'tier', 'joined_from', 'joined_to', 'birthday_from', 'birthday_to', 'channels'];

function PreviewBox({ preview, channels }: { preview: CampaignPreview; channels: string[] }) {
  const { t } = useTranslation();
  const r = preview.reach;
  return (
    <div data-testid="campaign-preview-box">
      <Typography.Title level={5}>{t('campaigns.preview')}</Typography.Title>
      <Descriptions size="small" column={1} bordered>
        <Descriptions.Item label={t('campaigns.members')}>
          <span data-testid="campaign-preview-members">{r.members}</span>
          {r.over_budget > 0 && ` · ${t('campaigns.overBudget', { count: r.over_budget })}`}
        </Descriptions.Item>
        {channels.includes('email') && (
          <Descriptions.Item label={t('campaigns.channels.email')}>
            <span data-testid="campaign-preview-email">{r.email}</span> ·{' '}
            {t('campaigns.reachLine', { missing: r.email_missing, out: r.email_opted_out })}
          </Descriptions.Item>
        )}
        {channels.includes('sms') && (
          <Descriptions.Item label={t('campaigns.channels.sms')}>
            <span data-testid="campaign-preview-sms">{r.sms}</span> · {t('campaigns.reachLine', { missing: r.sms_missing, out: r.sms_opted_out })}
          </Descriptions.Item>
        )}
        {channels.includes('inbox') && (
          <Descriptions.Item label={t('campaigns.channels.inbox')}>
            <span data-testid="campaign-preview-inbox">{r.inbox}</span>
          </Descriptions.Item>
        )}
        {preview.quotas.map((q) => (
          <Descriptions.Item key={q.limit} label={t(`limits.${q.limit}`, { defaultValue: q.limit })}>
            <Typography.Text type={q.remaining != null && q.remaining < 0 ? 'danger' : undefined} data-testid={`campaign-quota-${q.limit}`}>
              {q.allowed == null
                ? t('campaigns.quotaUnlimited', { used: q.used, campaign: q.campaign })
                : t('campaigns.quotaLine', { used: q.used, allowed: q.allowed, campaign: q.campaign, remaining: q.remaining })}
            </Typography.Text>
          </Descriptions.Item>
        ))}
      </Descriptions>
    </div>
  );
}
