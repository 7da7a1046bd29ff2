// Every trigger a business can have a point rule for, with the version in force and its draft.
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { Alert, Button, Card, Col, Form, Input, Row, Space, Tag, Typography } from 'antd';
import { useQueries, useQuery } from '@tanstack/react-query';
import { Trans, useTranslation } from 'react-i18next';
import { Advanced, useCodeFromName } from '../common/Advanced';
import { CODE_RULES } from '../common/codes';
import { errorText } from '../common/forms';
import { currencySymbol, formatDateTime, nameIn } from '../common/format';
import { currencyDigits } from '../points/reasons';
import { fetchTiersOverview, tiersKeys } from '../tiers/api';
import { couponKeys, fetchTemplates } from '../coupons/api';
import { useAuth } from '../auth/AuthContext';
import { fetchRules, fetchRuleVersions, rulesKeys } from './api';
import { RECIPES } from './recipes';
import { ruleSummary } from './summary';
import { BUILT_IN_TRIGGERS } from './template';

/** A trigger's name for people: built-in ones translated, `event.review` as "review". */
export function useTriggerName() {
  const { t } = useTranslation();
  return (trigger: string) =>
    trigger.startsWith('event.')
      ? t('rules.trigger.event', { name: trigger.slice('event.'.length) })
      : t(`rules.trigger.${trigger}`, { defaultValue: trigger });
}

export function RulesPage() {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const navigate = useNavigate();
  const triggerName = useTriggerName();
  const overview = useQuery({ queryKey: rulesKeys.overview(), queryFn: fetchRules });
  const byTrigger = new Map((overview.data?.triggers ?? []).map((r) => [r.trigger, r]));
  const custom = [...byTrigger.keys()].filter((k) => k.startsWith('event.')).sort();
  const triggers = [...BUILT_IN_TRIGGERS, ...custom];
  const [eventName, setEventName] = useState('');
  // The event's name in the shop's words; its code is made from it until typed under 高级.
  const [eventTitle, setEventTitle] = useState('');
  const [eventAuto, setEventAuto] = useState(true);
  useCodeFromName(eventTitle, eventAuto, CODE_RULES.event, custom.map((k) => k.slice('event.'.length)), setEventName);
  const eventOk = /^[a-z][a-z0-9_]{0,39}$/.test(eventName);
  const tz = me?.tenant.time_zone;
  const currency = me?.tenant.currency ?? 'CNY';
  // The template of each rule in force, for its summary.
  const withActive = triggers.filter((tr) => byTrigger.get(tr)?.active_version != null);
  const versions = useQueries({
    queries: withActive.map((trigger) => ({
      queryKey: rulesKeys.versions(trigger),
      queryFn: () => fetchRuleVersions(trigger),
    })),
  });
  const activeTemplate = new Map(
    withActive.map((trigger, i) => [trigger, versions[i]?.data?.find((v) => v.active)] as const),
  );
  // Tier names, only when a rule in force names tiers.
  const namesTiers = [...activeTemplate.values()].some(
    (v) => Array.isArray((v?.template as { tier_multipliers?: unknown } | undefined)?.tier_multipliers),
  );
  const tiers = useQuery({ queryKey: tiersKeys.overview(), queryFn: fetchTiersOverview, enabled: namesTiers });
  const tierName = (code: string) => {
    const tier = (tiers.data?.active?.ladder.tiers ?? []).find((x) => x.code === code);
    return tier ? nameIn(tier.name, i18n.language) || code : code;
  };
  // Coupon template names, only when a rule in force gives a coupon.
  const givesCoupon = [...activeTemplate.values()].some(
    (v) => typeof (v?.template as { coupon_template_id?: unknown } | undefined)?.coupon_template_id === 'string',
  );
  const coupons = useQuery({ queryKey: couponKeys.templates(), queryFn: fetchTemplates, enabled: givesCoupon, retry: false });
  const couponName = (id: string) => coupons.data?.find((x) => x.id === id)?.name ?? id;
  const summaryOf = (template: unknown) =>
    ruleSummary(template, {
      t,
      lang: i18n.language,
      symbol: currencySymbol(currency),
      digits: currencyDigits(currency),
      tierName,
      couponName,
    });

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={2}>{t('rules.title')}</Typography.Title>
      </div>
      <Typography.Paragraph type="secondary">{t('rules.intro')}</Typography.Paragraph>
      {overview.isError && <Alert type="error" showIcon message={errorText(t, overview.error)} style={{ marginBottom: 16 }} />}
      <Row gutter={[16, 16]}>
        {triggers.map((trigger) => {
          const r = byTrigger.get(trigger);
          return (
            <Col xs={24} md={12} xl={8} key={trigger}>
              <Card
                loading={overview.isPending}
                title={triggerName(trigger)}
                extra={
                  <Link to={`/rules/${encodeURIComponent(trigger)}`} data-testid={`rule-open-${trigger}`}>
                    {t('rules.open')}
                  </Link>
                }
              >
                <Space direction="vertical">
                  {r?.active_version !== undefined && r.active_version !== null ? (
                    <span>
                      <Tag color="green" data-testid={`rule-active-${trigger}`}>
                        {t('rules.activeVersion', { version: r.active_version })}
                      </Tag>
                      {r.activated_at && (
                        <Typography.Text type="secondary">{formatDateTime(r.activated_at, i18n.language, tz)}</Typography.Text>
                      )}
                    </span>
                  ) : (
                    <Tag>{t('rules.noActive')}</Tag>
                  )}
                  {activeTemplate.get(trigger) && (
                    <Typography.Text data-testid={`rule-summary-${trigger}`}>
                      {summaryOf(activeTemplate.get(trigger)?.template) ?? (
                        <Typography.Text type="secondary">{t('ruleSummary.script')}</Typography.Text>
                      )}
                    </Typography.Text>
                  )}
                  {r?.draft && (
                    <span>
                      <Tag color={r.draft.compile_error ? 'red' : 'blue'}>
                        {r.draft.compile_error ? t('rules.draftBroken') : t('rules.draftSaved')}
                      </Tag>
                      <Typography.Text type="secondary">{formatDateTime(r.draft.updated_at, i18n.language, tz)}</Typography.Text>
                    </span>
                  )}
                </Space>
              </Card>
            </Col>
          );
        })}
      </Row>
      {can('rules:write') && (
        <Card title={t('recipes.title')} style={{ marginTop: 16 }} data-testid="rule-recipes">
          <Typography.Paragraph type="secondary">{t('recipes.intro')}</Typography.Paragraph>
          <Row gutter={[12, 12]}>
            {RECIPES.map((r) => (
              <Col xs={24} sm={12} xl={8} key={r.id}>
                <Card size="small" title={t(`recipes.${r.id}.name`)} extra={<Tag>{triggerName(r.trigger)}</Tag>} style={{ height: '100%' }}>
                  <Typography.Paragraph style={{ minHeight: 44 }}>{t(`recipes.${r.id}.description`)}</Typography.Paragraph>
                  <Button
                    size="small"
                    type="primary"
                    ghost
                    data-testid={`recipe-${r.id}`}
                    onClick={() => navigate(`/rules/${encodeURIComponent(r.trigger)}?recipe=${r.id}`)}
                  >
                    {t('recipes.use')}
                  </Button>
                </Card>
              </Col>
            ))}
          </Row>
        </Card>
      )}
      {can('rules:write') && (
        <Card title={t('rules.customTitle')} style={{ marginTop: 16 }}>
          <Typography.Paragraph type="secondary">
            <Trans i18nKey="rules.customIntro" components={[<code key="code" />]} />
          </Typography.Paragraph>
          <Form
            layout="vertical"
            onFinish={() => eventOk && navigate(`/rules/${encodeURIComponent(`event.${eventName}`)}`)}
          >
            <Form.Item label={t('advanced.eventName')} extra={t('advanced.eventNameHelp')}>
              <Input
                value={eventTitle}
                onChange={(e) => setEventTitle(e.target.value)}
                style={{ maxWidth: 360 }}
                maxLength={40}
                data-testid="rule-custom-title"
              />
            </Form.Item>
            <Advanced forceOpen={Boolean(eventName) && !eventOk} testId="rule-custom-advanced">
              <Form.Item
                label={t('advanced.eventCode')}
                validateStatus={eventName && !eventOk ? 'error' : undefined}
                help={eventName && !eventOk ? t('rules.customNameRule') : undefined}
              >
                <Input
                  addonBefore={<code>event.</code>}
                  value={eventName}
                  onChange={(e) => {
                    setEventAuto(false);
                    setEventName(e.target.value.trim());
                  }}
                  style={{ maxWidth: 360 }}
                  data-testid="rule-custom-name"
                />
              </Form.Item>
            </Advanced>
            <Form.Item>
              <Button htmlType="submit" disabled={!eventOk}>
                {t('rules.customOpen')}
              </Button>
            </Form.Item>
          </Form>
        </Card>
      )}
    </>
  );
}
