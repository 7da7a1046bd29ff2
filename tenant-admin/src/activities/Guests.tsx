// The guests tab of an activity: people who are not members, added by staff by name and
// phone to free seats (the same seats members take); staff check them in or cancel them
// (the seat is offered to the first member in line).
import { useState } from 'react';
import { App, Button, Form, Input, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useAuth } from '../auth/AuthContext';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { activityKeys, addGuest, cancelGuest, checkInGuest, fetchGuests, type Activity, type Guest } from './api';

export function GuestsTab({ activity: a }: { activity: Activity }) {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<{ name: string; phone: string }>();
  const [error, setError] = useState<string>();
  const guests = useQuery({ queryKey: activityKeys.guests(a.id), queryFn: () => fetchGuests(a.id), retry: false });
  const done = () => void qc.invalidateQueries({ queryKey: activityKeys.one(a.id) });
  const add = useMutation({
    mutationFn: (v: { name: string; phone: string }) => addGuest(a.id, v.name.trim(), v.phone.trim()),
    onSuccess: (g) => {
      setError(undefined);
      form.resetFields();
      void message.success(t('activities.guests.added', { name: g.name }));
      done();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['name', 'phone'])),
  });
  const act = useMutation({
    mutationFn: ({ guest, action }: { guest: string; action: 'cancel' | 'check-in' }) =>
      action === 'cancel' ? cancelGuest(a.id, guest) : checkInGuest(a.id, guest),
    onSuccess: done,
    onError: (err) => void message.error(errorText(t, err)),
  });
  const open = ['draft', 'published', 'closed'].includes(a.status);
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Typography.Text type="secondary">{t('activities.guests.intro')}</Typography.Text>
      {can('members:write') && open && (
        <Form form={form} layout="inline" onFinish={(v) => add.mutate(v)} data-testid="guest-form">
          <Form.Item name="name" rules={[{ required: true, message: t('validation.required') }]}>
            <Input placeholder={t('activities.guests.name')} maxLength={100} data-testid="guest-name" />
          </Form.Item>
          <Form.Item name="phone" rules={[{ required: true, message: t('validation.required') }]}>
            <Input placeholder={t('activities.guests.phone')} maxLength={40} inputMode="tel" data-testid="guest-phone" />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={add.isPending} data-testid="guest-add">
            {t('activities.guests.add')}
          </Button>
        </Form>
      )}
      {error && <Typography.Text type="danger">{error}</Typography.Text>}
      <Table<Guest>
        size="small"
        rowKey="id"
        loading={guests.isPending}
        pagination={false}
        scroll={{ x: 560 }}
        dataSource={guests.data ?? []}
        locale={{ emptyText: guests.isError ? errorText(t, guests.error) : t('activities.guests.none') }}
        columns={[
          { title: t('activities.guests.name'), dataIndex: 'name' },
          { title: t('activities.guests.phone'), dataIndex: 'phone_masked' },
          {
            title: t('activities.field.status'),
            dataIndex: 'status',
            render: (s: string) => <Tag color={s === 'confirmed' ? 'green' : undefined}>{t(`activities.guests.status.${s}`)}</Tag>,
          },
          {
            title: t('activities.guests.checkedIn'),
            dataIndex: 'checked_in_at',
            render: (v?: string | null) => (v ? formatDateTime(v, i18n.language, me?.tenant.time_zone) : '—'),
          },
          {
            key: 'actions',
            render: (_, g) =>
              can('members:write') && g.status === 'confirmed' ? (
                <Space>
                  {!g.checked_in_at && (
                    <Button size="small" onClick={() => act.mutate({ guest: g.id, action: 'check-in' })} data-testid={`guest-check-in-${g.name}`}>
                      {t('activities.guests.checkIn')}
                    </Button>
                  )}
                  <Popconfirm
                    title={t('activities.guests.cancelConfirm')}
                    cancelText={t('common.cancel')}
                    onConfirm={() => act.mutate({ guest: g.id, action: 'cancel' })}
                  >
                    <Button size="small" danger data-testid={`guest-cancel-${g.name}`}>
                      {t('activities.guests.cancel')}
                    </Button>
                  </Popconfirm>
                </Space>
              ) : null,
          },
        ]}
      />
    </Space>
  );
}
