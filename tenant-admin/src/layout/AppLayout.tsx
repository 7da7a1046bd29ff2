import { useState } from 'react';
import { Alert, Button } from 'antd';
import { KeyOutlined, SafetyOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useLocation, useNavigate } from 'react-router';
import { useAuth } from '../auth/AuthContext';
import { PasswordModal } from '../auth/PasswordModal';
import { activeEntry, groupedNav } from './nav';
import { Shell } from './Shell';

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
        entries={groupedNav(me?.permissions ?? []).map(({ group, entries }) => ({
          key: group,
          label: t(`nav.groups.${group}`),
          entries: entries.map(({ path, label, icon: Icon }) => ({ path, label: t(label), icon: <Icon /> })),
        }))}
        selected={activeEntry(location.pathname)}
        actions={
          me?.kind === 'staff' && (
            <>
              <Button
                type="text"
                icon={<SafetyOutlined />}
                onClick={() => navigate('/security')}
                aria-label={t('security.menu')}
                title={t('security.menu')}
                data-testid="open-security"
              />
              <Button
                type="text"
                icon={<KeyOutlined />}
                onClick={() => setPassword(true)}
                aria-label={t('password.title')}
                title={t('password.title')}
              />
            </>
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
