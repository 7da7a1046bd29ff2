import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call, setOpsUnauthorizedHandler, type Schemas } from '../api/client';
import { clearOpsToken, getOpsToken, setOpsToken } from '../auth/token';

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
    queryKey: ['ops', 'me', token],
    queryFn: () => call(api.GET('/ops/me')),
    enabled: token !== null,
    retry: false,
    staleTime: 60_000,
  });

  useEffect(() => {
    setOpsUnauthorizedHandler(() => {
      setTokenState(null);
      qc.removeQueries({ queryKey: ['ops'] });
    });
  }, [qc]);

  const loggedIn = useCallback(
    async (t: string) => {
      setOpsToken(t);
      await qc.fetchQuery({ queryKey: ['ops', 'me', t], queryFn: () => call(api.GET('/ops/me')) });
      setTokenState(t);
    },
    [qc],
  );

  const logout = useCallback(async () => {
    try {
      await call(api.POST('/ops/logout'));
    } catch {
      // Already gone; forget it either way.
    }
    clearOpsToken();
    setTokenState(null);
    qc.removeQueries({ queryKey: ['ops'] });
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
