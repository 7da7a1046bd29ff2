// Query keys of the tiers capability, shared by the tiers page and the member's tier panel.
export const tiersKeys = {
  overview: ['tiers', 'overview'] as const,
  versions: ['tiers', 'versions'] as const,
  member: (id: string) => ['tiers', 'member', id] as const,
};
