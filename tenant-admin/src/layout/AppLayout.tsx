import { useState } from 'react';
import { Button, Drawer, Grid, Layout, Menu, Space, Typography } from 'antd';
import {
  ApiOutlined,
  AuditOutlined,
  KeyOutlined,
  LogoutOutlined,
  MenuOutlined,
  SafetyOutlined,
  SettingOutlined,
  TeamOutlined,
} from '@ant-design/icons';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Outlet, useLocation, useNavigate } from 'react-router';
import { useAuth } from '../auth/AuthContext';
import { PasswordModal } from '../auth/PasswordModal';
import { LanguageSwitch } from './LanguageSwitch';
import { activeEntry, visibleNav } from './nav';

const ICONS: Record<string, React.ReactNode> = {
  '/staff': <TeamOutlined />,
  '/roles': <SafetyOutlined />,
  '/api-keys': <ApiOutlined />,
  '/settings': <SettingOutlined />,
  '/audit-log': <AuditOutlined />,
};

export function AppLayout() {
  const { t } = useTranslation();
  const { me, logout } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const qc = useQueryClient();
  const screens = Grid.useBreakpoint();
  const desktop = screens.lg ?? false;
  const [drawer, setDrawer] = useState(false);
  const [password, setPassword] = useState(false);

  const entries = visibleNav(me?.permissions ?? []);
  const menu = (
    <Menu
      theme={desktop ? 'dark' : 'light'}
      mode="inline"
      selectedKeys={[activeEntry(location.pathname) ?? '']}
      items={entries.map((e) => ({ key: e.path, icon: ICONS[e.path], label: t(e.label) }))}
      onClick={({ key }) => {
        setDrawer(false);
        navigate(key);
      }}
      aria-label={t('nav.label')}
      data-testid="side-nav"
    />
  );

  const doLogout = async () => {
    await logout();
    qc.clear();
    navigate('/login', { replace: true });
  };

  return (
    <Layout style={{ minHeight: '100vh' }}>
      {desktop && (
        <Layout.Sider width={220} theme="dark">
          <div className="app-brand">Patron</div>
          <nav>{menu}</nav>
        </Layout.Sider>
      )}
      {!desktop && (
        <Drawer
          open={drawer}
          onClose={() => setDrawer(false)}
          placement="left"
          width={260}
          title="Patron"
          styles={{ body: { padding: 0 } }}
        >
          <nav>{menu}</nav>
        </Drawer>
      )}
      <Layout style={{ minWidth: 0 }}>
        <Layout.Header className="app-header">
          {!desktop && (
            <Button
              type="text"
              icon={<MenuOutlined />}
              aria-label={t('nav.open')}
              onClick={() => setDrawer(true)}
              data-testid="nav-toggle"
            />
          )}
          <Typography.Text className="tenant-name" title={me?.tenant.name}>
            {me?.tenant.name}
          </Typography.Text>
          <div className="spacer" />
          <Space size={4}>
            <LanguageSwitch />
            {desktop && <Typography.Text type="secondary">{me?.name}</Typography.Text>}
            {me?.kind === 'staff' && (
              <Button
                type="text"
                icon={<KeyOutlined />}
                onClick={() => setPassword(true)}
                aria-label={t('password.title')}
                title={t('password.title')}
              />
            )}
            <Button
              type="text"
              icon={<LogoutOutlined />}
              onClick={doLogout}
              data-testid="logout"
              aria-label={t('nav.logout')}
            >
              {desktop ? t('nav.logout') : null}
            </Button>
          </Space>
        </Layout.Header>
        <Layout.Content className="app-content">
          <Outlet />
        </Layout.Content>
        {password && <PasswordModal onClose={() => setPassword(false)} />}
      </Layout>
    </Layout>
  );
}
