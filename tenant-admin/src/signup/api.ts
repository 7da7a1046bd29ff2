// Signup: the one call of signing a new business up (the owner's account and a session).
import { api, call, type Schemas } from '../api/client';

export const signup = (body: Schemas['SignupRequest']) => call(api.POST('/signup', { body }));
