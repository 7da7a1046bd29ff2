import { Route, Routes } from 'react-router';
import { NotFound } from '../routes';
import { OpsAuthProvider } from './OpsAuth';
import { OpsLayout, RequireOperator } from './OpsLayout';
import { OpsLoginPage } from './OpsLoginPage';
import { OpsPlansPage } from './PlansPage';
import { OpsTenantsPage } from './TenantsPage';
import { OpsTotalsPage } from './TotalsPage';

/** The operators' pages under /ops, with their own login apart from any business. */
export default function OpsRoutes() {
  return (
    <OpsAuthProvider>
      <Routes>
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
      </Routes>
    </OpsAuthProvider>
  );
}
