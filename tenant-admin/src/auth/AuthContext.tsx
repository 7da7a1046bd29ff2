import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { setUnauthorizedHandler, type Schemas } from '../api/client';
import { fetchMe, logout as endSession, sessionKeys } from './api';
import { clearToken, getToken, setToken } from './token';
import { can } from '../layout/nav';

export type Me = Schemas['Me'];

interface AuthValue {
  me: Me | undefined;
  loading: boolean;
  /** Any one of the permissions. */
  can: (...anyOf: string[]) => boolean;
  /** Stores a fresh session token and loads who we are. */
  loggedIn: (token: string) => Promise<void>;
  logout: () => Promise<void>;
}

const Ctx = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  // The token lives in state too, so logging in or out re-renders who we are.
  const [token, setTokenState] = useState<string | null>(getToken);
  const meQuery = useQuery({
    queryKey: sessionKeys.me(token),
    queryFn: fetchMe,
    enabled: token !== null,
    retry: false,
    staleTime: 60_000,
  });

  useEffect(() => {
    setUnauthorizedHandler(() => {
      // RequireLogin sends the user to the login page.
      setTokenState(null);
      qc.clear();
    });
  }, [qc]);

  const loggedIn = useCallback(
    async (t: string) => {
      setToken(t);
      await qc.fetchQuery({ queryKey: sessionKeys.me(t), queryFn: fetchMe });
      setTokenState(t);
    },
    [qc],
  );

  const logout = useCallback(async () => {
    try {
      await endSession();
    } catch {
      // The session may already be gone; we forget it either way.
    }
    clearToken();
    setTokenState(null);
    qc.clear();
  }, [qc]);

  const me = token ? meQuery.data : undefined;
  const value = useMemo<AuthValue>(
    () => ({
      me,
      loading: token !== null && meQuery.isPending,
      can: (...anyOf) => can(me?.permissions ?? [], ...anyOf),
      loggedIn,
      logout,
    }),
    [me, token, meQuery.isPending, loggedIn, logout],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useAuth(): AuthValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('useAuth outside AuthProvider');
  return v;
}
