import { useState } from 'react';
import { Alert, Button } from 'antd';
import {
  ApiOutlined,
  AuditOutlined,
  CreditCardOutlined,
  FormOutlined,
  IdcardOutlined,
  KeyOutlined,
  SafetyOutlined,
  SettingOutlined,
  TeamOutlined,
} from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useLocation, useNavigate } from 'react-router';
import { useAuth } from '../auth/AuthContext';
import { PasswordModal } from '../auth/PasswordModal';
import { activeEntry, visibleNav } from './nav';
import { Shell } from './Shell';

const ICONS: Record<string, React.ReactNode> = {
  '/staff': <TeamOutlined />,
  '/roles': <SafetyOutlined />,
  '/api-keys': <ApiOutlined />,
  '/settings': <SettingOutlined />,
  '/audit-log': <AuditOutlined />,
  '/plan': <CreditCardOutlined />,
  '/members': <IdcardOutlined />,
  '/fields': <FormOutlined />,
};

/** The tenant console's frame: the menu shows only what the caller's permissions open. */
export function AppLayout() {
  const { t } = useTranslation();
  const { me, logout } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const [password, setPassword] = useState(false);

  return (
    <>
      <Shell
        brand="Patron"
        title={me?.tenant.name}
        user={me?.name}
        entries={visibleNav(me?.permissions ?? []).map((e) => ({
          path: e.path,
          label: t(e.label),
          icon: ICONS[e.path],
        }))}
        selected={activeEntry(location.pathname)}
        actions={
          me?.kind === 'staff' && (
            <Button
              type="text"
              icon={<KeyOutlined />}
              onClick={() => setPassword(true)}
              aria-label={t('password.title')}
              title={t('password.title')}
            />
          )
        }
        banner={
          me && ['suspended', 'past_due', 'closed'].includes(me.tenant.status) && (
            <Alert
              type={me.tenant.status === 'past_due' ? 'warning' : 'error'}
              showIcon
              message={t(`accountStatus.${me.tenant.status}`)}
              style={{ marginBottom: 16 }}
              role="alert"
            />
          )
        }
        onLogout={async () => {
          await logout();
          navigate('/login', { replace: true });
        }}
      />
      {password && <PasswordModal onClose={() => setPassword(false)} />}
    </>
  );
}
