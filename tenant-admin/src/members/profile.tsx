import { Form, Input, Select } from 'antd';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';

export type Member = Schemas['MemberView'];
/** A gender as the server takes it. */
export type Gender = NonNullable<Schemas['NewMember']['gender']>;

/** The built-in fields as the console's forms hold them (dates as `YYYY-MM-DD`). */
export interface ProfileValues {
  name: string;
  phone?: string;
  email?: string;
  gender?: Gender;
  birthday?: string;
  join_date?: string;
  home_store?: string;
  tags?: string[];
  notes?: string;
}

/** Form items of `ProfileValues`: server problems on these land under them. */
export const PROFILE_ITEMS = ['name', 'phone', 'email', 'gender', 'birthday', 'join_date', 'home_store', 'tags', 'notes'] as const;

export const GENDERS = ['female', 'male', 'other', 'undisclosed'] as const;

export function profileOf(m: Member): ProfileValues {
  return {
    name: m.name,
    phone: m.phone ?? '',
    email: m.email ?? '',
    // The server writes only the genders it takes.
    gender: (m.gender ?? undefined) as Gender | undefined,
    birthday: m.birthday ?? '',
    join_date: m.join_date ?? '',
    home_store: m.home_store ?? '',
    tags: m.tags ?? [],
    notes: m.notes ?? '',
  };
}

const trimmed = (v: string | null | undefined) => (v ?? '').trim();

/** A new member's details: blank fields left out. */
export function newMemberBody(v: ProfileValues, custom: Record<string, unknown>): Schemas['NewMember'] {
  const body: Schemas['NewMember'] = { name: trimmed(v.name), tags: v.tags ?? [], custom };
  for (const k of ['phone', 'email', 'birthday', 'join_date', 'home_store', 'notes'] as const) {
    const s = trimmed(v[k]);
    if (s) body[k] = s;
  }
  if (v.gender) body.gender = v.gender;
  return body;
}

/**
 * The edit of a member: only what changed; an emptied field is sent as `null` (cleared).
 * Returns undefined when nothing changed.
 */
export function memberChange(
  before: ProfileValues,
  after: ProfileValues,
  customBefore: Record<string, unknown>,
  customAfter: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const k of ['name', 'phone', 'email', 'gender', 'birthday', 'join_date', 'home_store', 'notes'] as const) {
    const a = trimmed(before[k]);
    const b = trimmed(after[k]);
    if (a !== b) out[k] = b === '' ? null : b;
  }
  const ta = before.tags ?? [];
  const tb = after.tags ?? [];
  if (ta.length !== tb.length || ta.some((t, i) => t !== tb[i])) out.tags = tb;
  const custom: Record<string, unknown> = {};
  for (const k of new Set([...Object.keys(customBefore), ...Object.keys(customAfter)])) {
    const a = customBefore[k];
    const b = customAfter[k];
    if (JSON.stringify(a) !== JSON.stringify(b)) custom[k] = b === undefined || b === '' ? null : b;
  }
  if (Object.keys(custom).length) out.custom = custom;
  return Object.keys(out).length ? out : undefined;
}

/** The built-in fields' form items. */
export function ProfileItems({ piiMasked = false, withJoinDate = true }: { piiMasked?: boolean; withJoinDate?: boolean }) {
  const { t } = useTranslation();
  return (
    <>
      <Form.Item name="name" label={t('members.f.name')} rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
        <Input maxLength={200} />
      </Form.Item>
      <Form.Item name="phone" label={t('members.f.phone')} extra={piiMasked ? t('members.masked') : undefined}>
        <Input type="tel" autoComplete="off" disabled={piiMasked} />
      </Form.Item>
      <Form.Item name="email" label={t('members.f.email')}>
        <Input type="email" autoComplete="off" disabled={piiMasked} />
      </Form.Item>
      <Form.Item name="gender" label={t('members.f.gender')}>
        <Select allowClear options={GENDERS.map((g) => ({ value: g, label: t(`members.gender.${g}`) }))} />
      </Form.Item>
      <Form.Item name="birthday" label={t('members.f.birthday')}>
        <Input type="date" />
      </Form.Item>
      {withJoinDate && (
        <Form.Item name="join_date" label={t('members.f.join_date')}>
          <Input type="date" />
        </Form.Item>
      )}
      <Form.Item name="home_store" label={t('members.f.home_store')}>
        <Input maxLength={200} />
      </Form.Item>
      <Form.Item name="tags" label={t('members.f.tags')}>
        <Select mode="tags" tokenSeparators={[',', '，']} open={false} suffixIcon={null} />
      </Form.Item>
      <Form.Item name="notes" label={t('members.f.notes')}>
        <Input.TextArea rows={3} maxLength={20000} />
      </Form.Item>
    </>
  );
}
