import { createContext, lazy, Suspense, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { Badge, Button, Result, Spin, Typography } from 'antd';
import { CalendarOutlined, CommentOutlined, FireOutlined, GiftOutlined, IdcardOutlined, LogoutOutlined, MailOutlined, StarOutlined, TagsOutlined, UserOutlined, WalletOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Navigate, NavLink, Route, Routes, useNavigate, useParams } from 'react-router';
import { ApiProblem } from '../api/errors';
import { errorText } from '../common/forms';
import { PortalLanguage } from './PortalLanguage';
import { fetchPortalPromotions, portalPromotionKeys } from '../promotions/portal';
import { conversationsKeys, fetchMyConversations } from '../conversations/api';
import { fetchPortalActivities, fetchPortalForm, fetchPortalInbox, fetchPortalMall, fetchPortalMe, fetchPortalPrepaid, portalKeys } from './api';
import { clearMemberToken, getMemberToken, setMemberToken, setSignedOutHandler } from './client';
import { LoginPage, ResetPage } from './AuthPages';
// The pages with the business's own fields bring the form library: loaded when opened.
const RegisterPage = lazy(() => import('./RegisterPage').then((m) => ({ default: m.RegisterPage })));
// The member's card (QR and barcode libraries) and points, once signed in.
const CardPage = lazy(() => import('./CardPages').then((m) => ({ default: m.CardPage })));
const PointsPage = lazy(() => import('./CardPages').then((m) => ({ default: m.PointsPage })));
const ProfilePage = lazy(() => import('./ProfilePage').then((m) => ({ default: m.ProfilePage })));
const PrepaidPage = lazy(() => import('./PrepaidPage').then((m) => ({ default: m.PrepaidPage })));
const MallPage = lazy(() => import('./MallPage').then((m) => ({ default: m.MallPage })));
const CouponsPage = lazy(() => import('../coupons/PortalCouponsPage').then((m) => ({ default: m.PortalCouponsPage })));
const PromotionsPage = lazy(() =>
  import('../promotions/PortalPromotionsPage').then((m) => ({ default: m.PortalPromotionsPage })),
);
const ActivitiesPage = lazy(() => import('./ActivitiesPage').then((m) => ({ default: m.ActivitiesPage })));
const InboxPage = lazy(() => import('../notices/PortalInboxPage').then((m) => ({ default: m.PortalInboxPage })));
const ConversationsPage = lazy(() =>
  import('../conversations/PortalConversationsPage').then((m) => ({ default: m.PortalConversationsPage })),
);
const ConversationPage = lazy(() =>
  import('../conversations/PortalConversationsPage').then((m) => ({ default: m.PortalConversationPage })),
);
const UnsubscribePage = lazy(() => import('../notices/PortalUnsubscribePage').then((m) => ({ default: m.PortalUnsubscribePage })));
import './portal.css';

interface PortalValue {
  slug: string;
  token: string | null;
  signIn: (token: string) => void;
  signOut: () => void;
}

const Ctx = createContext<PortalValue | null>(null);

export function usePortal(): PortalValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('usePortal outside the portal');
  return v;
}

/** The business's registration form (its name and custom fields). */
export function usePortalForm(slug: string) {
  return useQuery({
    queryKey: portalKeys.form(slug),
    queryFn: () => fetchPortalForm(slug),
    staleTime: 60_000,
  });
}

/** The signed-in member. */
export function usePortalMe() {
  const { slug, token } = usePortal();
  return useQuery({
    queryKey: portalKeys.me(slug, token),
    queryFn: () => fetchPortalMe(slug),
    enabled: token !== null,
  });
}

/** The member portal at `/m/<business>`: phone-first, its own login, the business's fields. */
export default function PortalRoutes() {
  const { slug = '' } = useParams();
  const qc = useQueryClient();
  const [token, setToken] = useState<string | null>(() => getMemberToken(slug));
  useEffect(() => setToken(getMemberToken(slug)), [slug]);
  useEffect(() => {
    setSignedOutHandler((s) => {
      if (s === slug) setToken(null);
    });
  }, [slug]);
  const signIn = useCallback(
    (tk: string) => {
      setMemberToken(slug, tk);
      setToken(tk);
    },
    [slug],
  );
  const signOut = useCallback(() => {
    clearMemberToken(slug);
    setToken(null);
    qc.removeQueries({ queryKey: portalKeys.business(slug) });
  }, [qc, slug]);
  const value = useMemo(() => ({ slug, token, signIn, signOut }), [slug, token, signIn, signOut]);

  return (
    <Ctx.Provider value={value}>
      <PortalFrame>
        <Routes>
          <Route index element={token ? <Suspense fallback={<Spin />}><CardPage /></Suspense> : <Navigate to="login" replace />} />
          <Route path="login" element={token ? <Navigate to=".." relative="path" replace /> : <LoginPage />} />
          <Route path="register" element={<Suspense fallback={<Spin />}><RegisterPage /></Suspense>} />
          <Route path="reset" element={<ResetPage />} />
          <Route path="points" element={<SignedIn><Suspense fallback={<Spin />}><PointsPage /></Suspense></SignedIn>} />
          <Route path="prepaid" element={<SignedIn><Suspense fallback={<Spin />}><PrepaidPage /></Suspense></SignedIn>} />
          <Route path="mall" element={<SignedIn><Suspense fallback={<Spin />}><MallPage /></Suspense></SignedIn>} />
          <Route path="coupons" element={<SignedIn><Suspense fallback={<Spin />}><CouponsPage /></Suspense></SignedIn>} />
          <Route path="promotions" element={<SignedIn><Suspense fallback={<Spin />}><PromotionsPage /></Suspense></SignedIn>} />
          <Route path="activities" element={<SignedIn><Suspense fallback={<Spin />}><ActivitiesPage /></Suspense></SignedIn>} />
          <Route path="profile" element={<SignedIn><Suspense fallback={<Spin />}><ProfilePage /></Suspense></SignedIn>} />
          <Route path="inbox" element={<SignedIn><Suspense fallback={<Spin />}><InboxPage /></Suspense></SignedIn>} />
          <Route path="conversations" element={<SignedIn><Suspense fallback={<Spin />}><ConversationsPage /></Suspense></SignedIn>} />
          <Route path="conversations/:id" element={<SignedIn><Suspense fallback={<Spin />}><ConversationPage /></Suspense></SignedIn>} />
          <Route path="unsubscribe" element={<Suspense fallback={<Spin />}><UnsubscribePage /></Suspense>} />
          <Route path="*" element={<Result status="404" title={<PortalText k="notFound" />} />} />
        </Routes>
      </PortalFrame>
    </Ctx.Provider>
  );
}

/** The prepaid tab, shown when the business's plan includes any of it. */
function PrepaidTab({ base }: { base: string }) {
  const { t } = useTranslation();
  const { slug, token } = usePortal();
  const q = useQuery({
    queryKey: portalKeys.prepaid(slug, token),
    queryFn: () => fetchPortalPrepaid(slug),
    enabled: token !== null,
    staleTime: 30_000,
  });
  const d = q.data;
  if (!d || (!d.memberships && !d.stored_value && !d.passes)) return null;
  return (
    <NavLink to={`${base}/prepaid`} data-testid="portal-tab-prepaid">
      <WalletOutlined />
      <span>{t('portal.tabs.prepaid')}</span>
    </NavLink>
  );
}

/** The mall tab, shown when the business's plan includes the points mall. */
function MallTab({ base }: { base: string }) {
  const { t } = useTranslation();
  const { slug, token } = usePortal();
  const q = useQuery({
    queryKey: portalKeys.mall(slug, token),
    queryFn: () => fetchPortalMall(slug),
    enabled: token !== null,
    retry: false,
    staleTime: 30_000,
  });
  if (!q.data?.available) return null;
  return (
    <NavLink to={`${base}/mall`} data-testid="portal-tab-mall">
      <GiftOutlined />
      <span>{t('portal.tabs.mall')}</span>
    </NavLink>
  );
}

/** The activities tab, shown when the business's plan includes activities. */
function ActivitiesTab({ base }: { base: string }) {
  const { t } = useTranslation();
  const { slug, token } = usePortal();
  const q = useQuery({
    queryKey: [...portalKeys.activities(slug, token), 'open'],
    queryFn: () => fetchPortalActivities(slug),
    enabled: token !== null,
    retry: false,
    staleTime: 30_000,
  });
  if (!q.data || q.data.length === 0) return null;
  return (
    <NavLink to={`${base}/activities`} data-testid="portal-tab-activities">
      <CalendarOutlined />
      <span>{t('activities.portal.tab')}</span>
    </NavLink>
  );
}

/** The promotions tab, shown when there is a running or upcoming promotion for the member. */
function PromotionsTab({ base }: { base: string }) {
  const { t } = useTranslation();
  const { slug, token } = usePortal();
  const q = useQuery({
    queryKey: portalPromotionKeys.list(slug, token),
    queryFn: () => fetchPortalPromotions(slug),
    enabled: token !== null,
    retry: false,
    staleTime: 30_000,
  });
  if (!q.data || q.data.length === 0) return null;
  return (
    <NavLink to={`${base}/promotions`} data-testid="portal-tab-promotions">
      <FireOutlined />
      <span>{t('promotions.portal.tab')}</span>
    </NavLink>
  );
}

/** The messages tab, with the number of unread notices and e-mails. */
function InboxTab({ base }: { base: string }) {
  const { t } = useTranslation();
  const { slug, token } = usePortal();
  const q = useQuery({
    queryKey: ['portal', slug, 'inbox', token],
    queryFn: () => fetchPortalInbox(slug),
    enabled: token !== null,
    retry: false,
    staleTime: 30_000,
  });
  return (
    <NavLink to={`${base}/inbox`} data-testid="portal-tab-inbox">
      <Badge count={q.data?.unread ?? 0} size="small" offset={[6, 0]}>
        <MailOutlined />
      </Badge>
      <span>{t('inbox.tab')}</span>
    </NavLink>
  );
}

/** The contact-us tab, shown when the business takes conversations, with unread answers. */
function ConversationsTab({ base }: { base: string }) {
  const { t } = useTranslation();
  const { slug, token } = usePortal();
  const q = useQuery({
    queryKey: conversationsKeys.mine(slug, token),
    queryFn: () => fetchMyConversations(slug),
    enabled: token !== null,
    retry: false,
    staleTime: 30_000,
  });
  if (!q.data?.available) return null;
  return (
    <NavLink to={`${base}/conversations`} data-testid="portal-tab-conversations">
      <Badge count={q.data.unread} size="small" offset={[6, 0]}>
        <CommentOutlined />
      </Badge>
      <span>{t('conversations.portal.tab')}</span>
    </NavLink>
  );
}

function PortalText({ k }: { k: string }) {
  const { t } = useTranslation();
  return <>{t(`portal.${k}`)}</>;
}

function SignedIn({ children }: { children: ReactNode }) {
  const { token, slug } = usePortal();
  if (!token) return <Navigate to={`/m/${slug}/login`} replace />;
  return <>{children}</>;
}

function PortalFrame({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const { slug, token, signOut } = usePortal();
  const navigate = useNavigate();
  const form = usePortalForm(slug);
  const unknown = form.error instanceof ApiProblem && form.error.status === 404;
  const base = `/m/${slug}`;

  return (
    <div className="portal">
      <header className="portal-header">
        <Typography.Text strong className="portal-business" data-testid="portal-business">
          {form.data?.business ?? ' '}
        </Typography.Text>
        <PortalLanguage />
        {token && (
          <Button
            type="text"
            icon={<LogoutOutlined />}
            aria-label={t('portal.logout')}
            title={t('portal.logout')}
            data-testid="portal-logout"
            onClick={() => {
              signOut();
              navigate(`${base}/login`);
            }}
          />
        )}
      </header>
      <main className="portal-main">
        {form.isPending ? (
          <Spin style={{ display: 'block', margin: 48 }} />
        ) : unknown ? (
          <Result status="404" title={t('portal.unknownBusiness')} />
        ) : form.isError ? (
          <Result status="error" title={errorText(t, form.error)} />
        ) : (
          children
        )}
      </main>
      {token && !unknown && (
        <nav className="portal-tabs" aria-label={t('portal.nav')}>
          <NavLink to={base} end>
            <IdcardOutlined />
            <span>{t('portal.tabs.card')}</span>
          </NavLink>
          <NavLink to={`${base}/points`}>
            <StarOutlined />
            <span>{t('portal.tabs.points')}</span>
          </NavLink>
          <PrepaidTab base={base} />
          <MallTab base={base} />
          <NavLink to={`${base}/coupons`} data-testid="portal-tab-coupons">
            <TagsOutlined />
            <span>{t('coupons.portal.tab')}</span>
          </NavLink>
          <PromotionsTab base={base} />
          <ActivitiesTab base={base} />
          <InboxTab base={base} />
          <ConversationsTab base={base} />
          <NavLink to={`${base}/profile`}>
            <UserOutlined />
            <span>{t('portal.tabs.profile')}</span>
          </NavLink>
        </nav>
      )}
    </div>
  );
}
