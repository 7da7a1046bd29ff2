import type { ReactNode } from 'react';
import { Spin } from 'antd';
import { AppstoreOutlined, BarChartOutlined, ShopOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { Shell } from '../layout/Shell';
import { useOpsAuth } from './OpsAuth';

const ENTRIES = [
  { path: '/ops', label: 'ops.nav.totals', icon: <BarChartOutlined /> },
  { path: '/ops/tenants', label: 'ops.nav.tenants', icon: <ShopOutlined /> },
  { path: '/ops/plans', label: 'ops.nav.plans', icon: <AppstoreOutlined /> },
];

/** The operators' frame; operators log in at /ops/login, apart from any business. */
export function OpsLayout() {
  const { t } = useTranslation();
  const { operator, logout } = useOpsAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const selected = [...ENTRIES]
    .sort((a, b) => b.path.length - a.path.length)
    .find((e) => location.pathname === e.path || location.pathname.startsWith(`${e.path}/`))?.path;
  return (
    <Shell
      brand={t('ops.brand')}
      title={t('ops.title')}
      user={operator?.name}
      entries={ENTRIES.map((e) => ({ ...e, label: t(e.label) }))}
      selected={selected}
      onLogout={async () => {
        await logout();
        navigate('/ops/login', { replace: true });
      }}
    />
  );
}

export function RequireOperator({ children }: { children: ReactNode }) {
  const { operator, loading } = useOpsAuth();
  if (loading) {
    return (
      <div style={{ padding: 64, textAlign: 'center' }}>
        <Spin />
      </div>
    );
  }
  if (!operator) return <Navigate to="/ops/login" replace />;
  return <>{children}</>;
}
