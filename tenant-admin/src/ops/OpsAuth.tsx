import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { setOpsUnauthorizedHandler, type Schemas } from '../api/client';
import { clearOpsToken, getOpsToken, setOpsToken } from '../auth/token';
import { fetchOperator, opsKeys, opsLogout } from './api';

export type Operator = Schemas['OperatorView'];

interface OpsAuthValue {
  operator: Operator | undefined;
  loading: boolean;
  loggedIn: (token: string) => Promise<void>;
  logout: () => Promise<void>;
}

const Ctx = createContext<OpsAuthValue | null>(null);

/** The platform operator's session, kept apart from any tenant login. */
export function OpsAuthProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const [token, setTokenState] = useState<string | null>(getOpsToken);
  const me = useQuery({
    queryKey: opsKeys.me(token),
    queryFn: fetchOperator,
    enabled: token !== null,
    retry: false,
    staleTime: 60_000,
  });

  useEffect(() => {
    setOpsUnauthorizedHandler(() => {
      setTokenState(null);
      qc.removeQueries({ queryKey: opsKeys.all });
    });
  }, [qc]);

  const loggedIn = useCallback(
    async (t: string) => {
      setOpsToken(t);
      await qc.fetchQuery({ queryKey: opsKeys.me(t), queryFn: fetchOperator });
      setTokenState(t);
    },
    [qc],
  );

  const logout = useCallback(async () => {
    try {
      await opsLogout();
    } catch {
      // Already gone; forget it either way.
    }
    clearOpsToken();
    setTokenState(null);
    qc.removeQueries({ queryKey: opsKeys.all });
  }, [qc]);

  const operator = token ? me.data : undefined;
  const value = useMemo(
    () => ({ operator, loading: token !== null && me.isPending, loggedIn, logout }),
    [operator, token, me.isPending, loggedIn, logout],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useOpsAuth(): OpsAuthValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('useOpsAuth outside OpsAuthProvider');
  return v;
}
