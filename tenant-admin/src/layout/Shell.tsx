import { useState, type ReactNode } from 'react';
import { Button, Drawer, Grid, Layout, Menu, Space, Typography } from 'antd';
import { LogoutOutlined, MenuOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Outlet, useNavigate } from 'react-router';
import { LanguageSwitch } from './LanguageSwitch';

export interface ShellEntry {
  path: string;
  label: string;
  icon?: ReactNode;
}

/** A titled group of menu entries. */
export interface ShellGroup {
  key: string;
  label: string;
  entries: ShellEntry[];
}

/**
 * The frame of every signed-in area (tenant console, operator pages): a side menu on wide
 * screens, a drawer behind a menu button on narrow ones, and a header with the language
 * switch and logout.
 */
export function Shell({
  brand,
  title,
  user,
  entries,
  selected,
  actions,
  banner,
  onLogout,
}: {
  brand: string;
  title?: string;
  user?: string;
  /** The menu: plain entries, or titled groups of them. */
  entries: ShellEntry[] | ShellGroup[];
  selected?: string;
  actions?: ReactNode;
  /** Shown above every page (e.g. the account is suspended). */
  banner?: ReactNode;
  onLogout: () => void | Promise<void>;
}) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const screens = Grid.useBreakpoint();
  const desktop = screens.lg ?? false;
  const [drawer, setDrawer] = useState(false);

  const item = (e: ShellEntry) => ({ key: e.path, icon: e.icon, label: e.label });
  const menu = (
    <Menu
      theme={desktop ? 'dark' : 'light'}
      mode="inline"
      selectedKeys={selected ? [selected] : []}
      items={entries.map((e) =>
        'entries' in e
          ? {
              type: 'group' as const,
              key: `group-${e.key}`,
              label: e.label,
              children: e.entries.map(item),
            }
          : item(e),
      )}
      onClick={({ key }) => {
        setDrawer(false);
        navigate(key);
      }}
      aria-label={t('nav.label')}
      data-testid="side-nav"
    />
  );

  return (
    <Layout style={{ minHeight: '100vh' }}>
      {desktop ? (
        <Layout.Sider width={220} theme="dark">
          <div className="app-brand">{brand}</div>
          <nav>{menu}</nav>
        </Layout.Sider>
      ) : (
        <Drawer
          open={drawer}
          onClose={() => setDrawer(false)}
          placement="left"
          width={260}
          title={brand}
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
          <Typography.Text className="tenant-name" title={title}>
            {title}
          </Typography.Text>
          <div className="spacer" />
          <Space size={4}>
            <LanguageSwitch />
            {desktop && user && <Typography.Text type="secondary">{user}</Typography.Text>}
            {actions}
            <Button
              type="text"
              icon={<LogoutOutlined />}
              onClick={() => void onLogout()}
              data-testid="logout"
              aria-label={t('nav.logout')}
            >
              {desktop ? t('nav.logout') : null}
            </Button>
          </Space>
        </Layout.Header>
        <Layout.Content className="app-content">
          {banner}
          <Outlet />
        </Layout.Content>
      </Layout>
    </Layout>
  );
}
