import type { ReactNode } from 'react';
import { Navigate, Outlet, Route, Routes, useLocation } from 'react-router';
import { Result, Spin } from 'antd';
import { useTranslation } from 'react-i18next';
import { useAuth } from './auth/AuthContext';
import { LoginPage } from './auth/LoginPage';
import { SignupPage } from './signup/SignupPage';
import { AppLayout } from './layout/AppLayout';
import { homePath } from './layout/nav';
import { StaffPage } from './staff/StaffPage';
import { RolesPage } from './roles/RolesPage';
import { ApiKeysPage } from './api-keys/ApiKeysPage';
import { SettingsPage } from './settings/SettingsPage';
import { AuditLogPage } from './settings/AuditLogPage';
import { PlanPage } from './plan/PlanPage';
import { OpsAuthProvider } from './ops/OpsAuth';
import { OpsLayout, RequireOperator } from './ops/OpsLayout';
import { OpsLoginPage } from './ops/OpsLoginPage';
import { OpsTotalsPage } from './ops/TotalsPage';
import { OpsTenantsPage } from './ops/TenantsPage';
import { OpsPlansPage } from './ops/PlansPage';

// One route per capability, each page in `src/<capability>/` (DESIGN.md). Members, points,
// tiers and the dashboard get their routes here, and their menu entries in `layout/nav.ts`,
// with the issues that bring their APIs. Operator pages live under /ops with their own login.
export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/signup" element={<SignupPage />} />
      <Route path="/ops" element={<OpsArea />}>
        <Route path="login" element={<OpsLoginPage />} />
        <Route
          element={
            <RequireOperator>
              <OpsLayout />
            </RequireOperator>
          }
        >
          <Route index element={<OpsTotalsPage />} />
          <Route path="tenants" element={<OpsTenantsPage />} />
          <Route path="plans" element={<OpsPlansPage />} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Route>
      <Route
        element={
          <RequireLogin>
            <AppLayout />
          </RequireLogin>
        }
      >
        <Route index element={<Home />} />
        <Route path="staff" element={<StaffPage />} />
        <Route path="roles" element={<RolesPage />} />
        <Route path="api-keys" element={<ApiKeysPage />} />
        <Route path="settings" element={<SettingsPage />} />
        <Route path="audit-log" element={<AuditLogPage />} />
        <Route path="plan" element={<PlanPage />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

/** The operators' pages (/ops): their own login, apart from any business. */
function OpsArea() {
  return (
    <OpsAuthProvider>
      <Outlet />
    </OpsAuthProvider>
  );
}

function RequireLogin({ children }: { children: ReactNode }) {
  const { me, loading } = useAuth();
  const location = useLocation();
  if (loading) {
    return (
      <div style={{ padding: 64, textAlign: 'center' }}>
        <Spin />
      </div>
    );
  }
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

function NotFound() {
  const { t } = useTranslation();
  return <Result status="404" title={t('common.notFound')} />;
}
