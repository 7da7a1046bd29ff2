import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';
import { setSetupRequiredHandler } from './api/client';
import { Result, Spin } from 'antd';
import { useTranslation } from 'react-i18next';
import { useAuth } from './auth/AuthContext';
import { LoginPage } from './auth/LoginPage';
import { ForgotPasswordPage, ResetPasswordPage } from './auth/ResetPasswordPages';
import { NoticesPage } from './notices/NoticesPage';
import { ConversationsPage } from './conversations/ConversationsPage';
import { CampaignsPage } from './campaigns/CampaignsPage';
import { SegmentsPage } from './segments/SegmentsPage';
import { SignupPage } from './signup/SignupPage';
import { AppLayout } from './layout/AppLayout';
import { homePath } from './layout/nav';
import { StaffPage } from './staff/StaffPage';
import { RolesPage } from './roles/RolesPage';
import { ApiKeysPage } from './api-keys/ApiKeysPage';
import { MessagesPage } from './messages/MessagesPage';
import { SettingsPage } from './settings/SettingsPage';
import { AuditLogPage } from './settings/AuditLogPage';
import { PlanPage } from './plan/PlanPage';
import { MembersPage } from './members/MembersPage';
import { MemberDetailPage } from './members/MemberDetailPage';
import { RegisterMemberPage } from './members/RegisterMemberPage';
import { ImportPage } from './members/ImportPage';
import { FieldsPage } from './fields/FieldsPage';
import { RulesPage } from './rules/RulesPage';
import { PointSettingsPage } from './points/PointSettingsPage';
import { PortalSitePage } from './portal-site/PortalSitePage';
import { DeskPage } from './desk/DeskPage';
import { PrepaidPage } from './prepaid/PrepaidPage';
import { ChargesPage } from './prepaid/ChargesPage';
import { MallPage } from './mall/MallPage';
import { CouponsPage } from './coupons/CouponsPage';
import { PromotionPage } from './promotions/PromotionPage';
import { PromotionsPage } from './promotions/PromotionsPage';
import { SecurityPage } from './security/SecurityPage';
import { ActivitiesPage } from './activities/ActivitiesPage';
import { ActivityPage } from './activities/ActivityPage';
// Tiers and the dashboard bring the chart library: loaded when opened.
const TiersPage = lazy(() => import('./tiers/TiersPage').then((m) => ({ default: m.TiersPage })));
const DashboardPage = lazy(() => import('./dashboard/DashboardPage').then((m) => ({ default: m.DashboardPage })));
// The member portal is loaded only when a member opens /m/<business>.
const PortalRoutes = lazy(() => import('./portal/PortalRoutes'));
// The operator pages are loaded only when someone opens /ops.
const OpsRoutes = lazy(() => import('./ops/OpsRoutes'));
// The rule editor brings the code editor and the diff: loaded when a rule is opened.
const RuleEditorPage = lazy(() => import('./rules/RuleEditorPage').then((m) => ({ default: m.RuleEditorPage })));

// One route per capability, each page in `src/<capability>/` (DESIGN.md). Members, points,
// tiers and the dashboard get their routes here, and their menu entries in `layout/nav.ts`,
// with the issues that bring their APIs. Operator pages live under /ops with their own login.
export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/signup" element={<SignupPage />} />
      <Route path="/forgot-password" element={<ForgotPasswordPage />} />
      <Route path="/reset-password" element={<ResetPasswordPage />} />
      <Route
        path="/m/:slug/*"
        element={
          <Suspense fallback={<Loading />}>
            <PortalRoutes />
          </Suspense>
        }
      />
      <Route
        path="/ops/*"
        element={
          <Suspense fallback={<Loading />}>
            <OpsRoutes />
          </Suspense>
        }
      />
      <Route
        element={
          <RequireLogin>
            <AppLayout />
          </RequireLogin>
        }
      >
        <Route index element={<Home />} />
        <Route path="desk" element={<DeskPage />} />
        <Route path="staff" element={<StaffPage />} />
        <Route path="roles" element={<RolesPage />} />
        <Route path="api-keys" element={<ApiKeysPage />} />
        <Route path="messages" element={<MessagesPage />} />
        <Route path="notices" element={<NoticesPage />} />
        <Route path="conversations" element={<ConversationsPage />} />
        <Route path="campaigns" element={<CampaignsPage />} />
        <Route path="segments" element={<SegmentsPage />} />
        <Route path="settings" element={<SettingsPage />} />
        <Route path="audit-log" element={<AuditLogPage />} />
        <Route path="security" element={<SecurityPage />} />
        <Route path="plan" element={<PlanPage />} />
        <Route path="members" element={<MembersPage />} />
        <Route path="members/new" element={<RegisterMemberPage />} />
        <Route path="members/import" element={<ImportPage />} />
        <Route path="members/:id" element={<MemberDetailPage />} />
        <Route path="fields" element={<FieldsPage />} />
        <Route path="rules" element={<RulesPage />} />
        <Route
          path="rules/:trigger"
          element={
            <Suspense fallback={<Loading />}>
              <RuleEditorPage />
            </Suspense>
          }
        />
        <Route path="points-settings" element={<PointSettingsPage />} />
        <Route path="portal-site" element={<PortalSitePage />} />
        <Route path="prepaid" element={<PrepaidPage />} />
        <Route path="charges" element={<ChargesPage />} />
        <Route path="mall" element={<MallPage />} />
        <Route path="coupons" element={<CouponsPage />} />
        <Route path="promotions" element={<PromotionsPage />} />
        <Route path="promotions/:id" element={<PromotionPage />} />
        <Route path="activities" element={<ActivitiesPage />} />
        <Route path="activities/:id" element={<ActivityPage />} />
        <Route
          path="tiers"
          element={
            <Suspense fallback={<Loading />}>
              <TiersPage />
            </Suspense>
          }
        />
        <Route
          path="dashboard"
          element={
            <Suspense fallback={<Loading />}>
              <DashboardPage />
            </Suspense>
          }
        />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

function RequireLogin({ children }: { children: ReactNode }) {
  const { me, loading } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  // An owner the business holds to two-factor codes can do nothing else until enrolled.
  useEffect(() => {
    setSetupRequiredHandler(() => void navigate('/security', { state: { setupRequired: true } }));
    return () => setSetupRequiredHandler(() => {});
  }, [navigate]);
  if (loading) return <Loading />;
  if (!me) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return <>{children}</>;
}

function Home() {
  const { me } = useAuth();
  const { t } = useTranslation();
  const to = homePath(me?.permissions ?? []);
  if (to) return <Navigate to={to} replace />;
  return <Result status="info" title={t('home.nothing')} />;
}

function Loading() {
  return (
    <div style={{ padding: 64, textAlign: 'center' }}>
      <Spin />
    </div>
  );
}

/** A page that failed to draw: said in the console's language, with a way back. */
export function PageFailed() {
  const { t } = useTranslation();
  return (
    <Result
      status="error"
      title={t('lang.pageFailed.title')}
      subTitle={t('lang.pageFailed.body')}
      extra={<a href="/">{t('lang.pageFailed.home')}</a>}
    />
  );
}

export function NotFound() {
  const { t } = useTranslation();
  return <Result status="404" title={t('common.notFound')} />;
}
