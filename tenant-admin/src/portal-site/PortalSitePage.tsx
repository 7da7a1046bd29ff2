// 会员门户: where the member portal is, a QR code to put it in members' hands, what the portal
// shows about the business, and a poster and table tent to print.
import { useEffect, useState } from 'react';
import { createPortal } from 'react-dom';
import { Alert, App, Button, Card, Col, Form, Input, Row, Space, Tag, Typography } from 'antd';
import { CopyOutlined, LinkOutlined, PrinterOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { QRCodeSVG } from 'qrcode.react';
import type { Schemas } from '../api/client';
import { useAuth } from '../auth/AuthContext';
import { applyServerErrors, errorText } from '../common/forms';
import { fetchPortalSettings, portalSiteKeys, portalUrl, savePortalSettings } from './api';
import './portal-site.css';

type Values = Schemas['PortalSettingsChange'];
const ITEMS = ['logo_url', 'address', 'opening_hours', 'privacy_text'] as const;
type Sheet = 'poster' | 'tent';

export function PortalSitePage() {
  const { t } = useTranslation();
  const { me, can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<Values>();
  const [error, setError] = useState<string>();
  const [sheet, setSheet] = useState<Sheet | null>(null);
  const mayChange = can('settings:manage');
  const slug = me?.tenant.slug ?? '';
  const business = me?.tenant.name ?? '';
  const url = portalUrl(window.location.origin, slug);
  const settings = useQuery({ queryKey: portalSiteKeys.settings(), queryFn: fetchPortalSettings });
  useEffect(() => {
    if (settings.data) form.setFieldsValue(settings.data);
  }, [settings.data, form]);
  const save = useMutation({
    mutationFn: (v: Values) =>
      savePortalSettings({
        logo_url: (v.logo_url ?? '').trim(),
        address: (v.address ?? '').trim(),
        opening_hours: (v.opening_hours ?? '').trim(),
        privacy_text: (v.privacy_text ?? '').trim(),
      }),
    onSuccess: (d) => {
      const bumped = settings.data && d.privacy_version !== settings.data.privacy_version && d.privacy_text !== '';
      qc.setQueryData(portalSiteKeys.settings(), d);
      void message.success(bumped ? t('portalSite.savedNewTerms', { version: d.privacy_version }) : t('common.saved'));
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ITEMS)),
  });
  // Print the chosen sheet once it is on the page; the print stylesheet shows only it.
  useEffect(() => {
    if (!sheet) return;
    const done = () => setSheet(null);
    window.addEventListener('afterprint', done, { once: true });
    const id = window.setTimeout(() => window.print(), 50);
    return () => {
      window.clearTimeout(id);
      window.removeEventListener('afterprint', done);
    };
  }, [sheet]);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      void message.success(t('portalSite.copied'));
    } catch {
      void message.info(t('portalSite.copyByHand'));
    }
  };
  const logo = settings.data?.logo_url ?? '';

  return (
    <div className="portal-site">
      <div className="page-toolbar">
        <Typography.Title level={2}>{t('portalSite.title')}</Typography.Title>
      </div>
      <Typography.Paragraph type="secondary">{t('portalSite.intro')}</Typography.Paragraph>
      {settings.isError && <Alert type="error" showIcon message={errorText(t, settings.error)} style={{ marginBottom: 16 }} />}
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={10}>
          <Card title={t('portalSite.link')}>
            <div className="portal-site-qr">
              <QRCodeSVG value={url} size={220} marginSize={2} title={t('portalSite.qr')} data-testid="portal-site-qr" />
            </div>
            <Typography.Paragraph className="portal-site-url" data-testid="portal-site-url">
              <LinkOutlined /> {url}
            </Typography.Paragraph>
            <Space wrap>
              <Button icon={<CopyOutlined />} onClick={() => void copy()} data-testid="portal-site-copy">
                {t('portalSite.copy')}
              </Button>
              <Button href={url} target="_blank" rel="noopener noreferrer">
                {t('portalSite.open')}
              </Button>
            </Space>
          </Card>
          <Card title={t('portalSite.print')} style={{ marginTop: 16 }}>
            <Typography.Paragraph type="secondary">{t('portalSite.printIntro')}</Typography.Paragraph>
            <Space wrap>
              <Button icon={<PrinterOutlined />} onClick={() => setSheet('poster')} data-testid="portal-site-print-poster">
                {t('portalSite.poster')}
              </Button>
              <Button icon={<PrinterOutlined />} onClick={() => setSheet('tent')} data-testid="portal-site-print-tent">
                {t('portalSite.tent')}
              </Button>
            </Space>
            <div className="portal-site-previews" aria-hidden>
              <div className="portal-site-preview portal-site-preview-poster">
                <Poster business={business} url={url} logo={logo} t={t} />
              </div>
            </div>
          </Card>
        </Col>
        <Col xs={24} lg={14}>
          <Card title={t('portalSite.page')} loading={settings.isPending}>
            {error && <Alert type="error" showIcon role="alert" message={error} style={{ marginBottom: 16 }} />}
            {!mayChange && <Alert type="info" showIcon message={t('portalSite.readOnly')} style={{ marginBottom: 16 }} />}
            <Form<Values>
              form={form}
              name="portal-site"
              layout="vertical"
              disabled={!mayChange}
              onFinish={(v) => {
                setError(undefined);
                save.mutate(v);
              }}
            >
              <Form.Item name="logo_url" label={t('portalSite.f.logo')} extra={t('portalSite.f.logoHelp')}>
                <Input placeholder="https://" maxLength={2000} />
              </Form.Item>
              <Form.Item name="address" label={t('portalSite.f.address')}>
                <Input maxLength={500} />
              </Form.Item>
              <Form.Item name="opening_hours" label={t('portalSite.f.hours')} extra={t('portalSite.f.hoursHelp')}>
                <Input.TextArea rows={3} maxLength={1000} />
              </Form.Item>
              <Form.Item
                name="privacy_text"
                label={
                  <Space>
                    {t('portalSite.f.privacy')}
                    {settings.data && settings.data.privacy_version > 0 && settings.data.privacy_text && (
                      <Tag data-testid="portal-site-terms-version">{t('portalSite.version', { version: settings.data.privacy_version })}</Tag>
                    )}
                  </Space>
                }
                extra={t('portalSite.f.privacyHelp')}
              >
                <Input.TextArea rows={8} maxLength={50000} />
              </Form.Item>
              <Button type="primary" htmlType="submit" loading={save.isPending} data-testid="portal-site-save">
                {t('common.save')}
              </Button>
            </Form>
          </Card>
        </Col>
      </Row>
      {sheet && createPortal(
        <div className={`portal-print-sheet portal-print-${sheet}`} data-testid={`portal-print-${sheet}`}>
          {sheet === 'poster' ? (
            <Poster business={business} url={url} logo={logo} t={t} />
          ) : (
            <div className="portal-tent">
              <div className="portal-tent-half portal-tent-back">
                <TentFace business={business} url={url} t={t} />
              </div>
              <div className="portal-tent-half">
                <TentFace business={business} url={url} t={t} />
              </div>
            </div>
          )}
        </div>,
        document.body,
      )}
    </div>
  );
}

type T = (k: string, o?: Record<string, unknown>) => string;

/** The A4 poster: the business, a large QR code and the address under it. */
function Poster({ business, url, logo, t }: { business: string; url: string; logo: string; t: T }) {
  return (
    <div className="portal-poster">
      {logo && <img src={logo} alt="" className="portal-poster-logo" />}
      <div className="portal-poster-name">{business}</div>
      <div className="portal-poster-call">{t('portalSite.sheet.call')}</div>
      <QRCodeSVG value={url} size={420} marginSize={2} className="portal-poster-qr" />
      <div className="portal-poster-how">{t('portalSite.sheet.how')}</div>
      <div className="portal-poster-url">{url}</div>
    </div>
  );
}

/** One face of the table tent (printed twice, one upside down, folded in the middle). */
function TentFace({ business, url, t }: { business: string; url: string; t: T }) {
  return (
    <div className="portal-tent-face">
      <div className="portal-tent-text">
        <div className="portal-tent-name">{business}</div>
        <div className="portal-tent-call">{t('portalSite.sheet.call')}</div>
        <div className="portal-tent-how">{t('portalSite.sheet.how')}</div>
      </div>
      <QRCodeSVG value={url} size={220} marginSize={2} />
    </div>
  );
}
