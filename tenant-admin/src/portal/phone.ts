// How the portal shows a phone number: a mainland mobile in the 3-4-4 groups people read
// and say (`136 5555 6666`), other numbers as stored.

/** `+8613655556666` -> `136 5555 6666`; anything else unchanged. */
export function formatPhone(phone: string | null | undefined): string {
  if (!phone) return '';
  const m = /^(?:\+?86)?(1\d{2})(\d{4})(\d{4})$/.exec(phone.replace(/[\s-]/g, ''));
  return m ? `${m[1]} ${m[2]} ${m[3]}` : phone;
}
