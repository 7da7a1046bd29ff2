// Actors: the names behind the actor texts lists record (`staff:<id>`, `key:<id>`,
// `system:tiers` ...), resolved by the server in batches.
import { api, call, type Schemas } from '../api/client';

export type ActorName = Schemas['ActorNameView'];

export const resolveActors = (subjects: string[]) => call(api.POST('/actors/resolve', { body: { subjects } }));
