// The member portal as its own small page (`portal.html`, served for `/m/...`): only what a
// member's phone needs, without the console's pages.
import { StrictMode, useMemo } from 'react';
import { createRoot } from 'react-dom/client';
import { App as AntApp, ConfigProvider } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { BrowserRouter, Route, Routes } from 'react-router';
import { useTranslation } from 'react-i18next';
import '../i18n';
import { ApiProblem } from '../api/errors';
import PortalRoutes from './PortalRoutes';
import '../styles.css';

function Portal() {
  const { i18n } = useTranslation();
  const queryClient = useMemo(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: {
            retry: (count, err) => !(err instanceof ApiProblem && err.status < 500) && count < 2,
            refetchOnWindowFocus: false,
          },
        },
      }),
    [],
  );
  return (
    <ConfigProvider locale={i18n.language === 'en' ? enUS : zhCN} button={{ autoInsertSpace: false }}>
      <AntApp>
        <QueryClientProvider client={queryClient}>
          <BrowserRouter>
            <Routes>
              <Route path="/m/:slug/*" element={<PortalRoutes />} />
            </Routes>
          </BrowserRouter>
        </QueryClientProvider>
      </AntApp>
    </ConfigProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Portal />
  </StrictMode>,
);
