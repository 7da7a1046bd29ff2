// Actions on the members selected in the list: add a tag, adjust points (one idempotent
// adjustment each, so a retry never adjusts twice), export the selection.
import { useState } from 'react';
import { App, Button, Dropdown, Form, Input, InputNumber, Modal, Progress, Radio, Typography } from 'antd';
import { DownOutlined } from '@ant-design/icons';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useAuth } from '../auth/AuthContext';
import { errorText } from '../common/forms';
import { adjustPoints } from '../points/api';
import { newIdempotencyKey } from '../points/cursor';
import { fetchMember, membersKeys, updateMember } from './api';
import { withTag, type MemberRow } from './list';

type Action = 'tag' | 'points';

interface BulkForm {
  tag?: string;
  direction?: 'add' | 'remove';
  points?: number;
  reason?: string;
}

export function BulkActions({
  ids,
  rows,
  onExport,
  onDone,
}: {
  ids: string[];
  rows: readonly MemberRow[];
  onExport: () => void;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<BulkForm>();
  const [action, setAction] = useState<Action>();
  const [done, setDone] = useState(0);
  const [running, setRunning] = useState(false);
  // One key per attempt: a retry after a failure adjusts each member at most once.
  const [batch, setBatch] = useState(() => newIdempotencyKey('bulk'));

  async function run(v: BulkForm) {
    setRunning(true);
    setDone(0);
    const failed: string[] = [];
    for (const id of ids) {
      try {
        if (action === 'tag') {
          const known = rows.find((r) => r.id === id);
          const tags = known ? known.tags : (await fetchMember(id)).tags;
          await updateMember(id, { tags: withTag(tags, v.tag ?? '') });
        } else {
          const n = v.points ?? 0;
          await adjustPoints(id, {
            idempotency_key: `${batch}-${id}`,
            points: v.direction === 'remove' ? -n : n,
            reason: (v.reason ?? '').trim(),
          });
        }
      } catch (err) {
        failed.push(`${rows.find((r) => r.id === id)?.name ?? id}: ${errorText(t, err)}`);
      }
      setDone((d) => d + 1);
    }
    setRunning(false);
    void qc.invalidateQueries({ queryKey: membersKeys.all });
    if (failed.length === 0) {
      void message.success(t('memberList.bulk.done', { count: ids.length }));
      setAction(undefined);
      setBatch(newIdempotencyKey('bulk'));
      form.resetFields();
      onDone();
    } else {
      Modal.error({ title: t('memberList.bulk.failed', { count: failed.length }), content: failed.join('\n') });
    }
  }

  const items = [
    ...(can('members:write') ? [{ key: 'tag', label: t('memberList.bulk.tag') }] : []),
    ...(can('points:adjust') ? [{ key: 'points', label: t('memberList.bulk.points') }] : []),
    ...(can('members:export') ? [{ key: 'export', label: t('memberList.bulk.export') }] : []),
  ];
  const required = { required: true, message: t('validation.required') };
  return (
    <>
      <Dropdown
        menu={{
          items,
          onClick: ({ key }) => (key === 'export' ? onExport() : setAction(key as Action)),
        }}
      >
        <Button type="primary" data-testid="bulk-actions">
          {t('memberList.bulk.title', { count: ids.length })} <DownOutlined />
        </Button>
      </Dropdown>
      <Modal
        open={action !== undefined}
        title={action === 'tag' ? t('memberList.bulk.tag') : t('memberList.bulk.points')}
        okText={t('memberList.bulk.apply', { count: ids.length })}
        cancelText={t('common.cancel')}
        confirmLoading={running}
        onOk={() => form.submit()}
        onCancel={() => !running && setAction(undefined)}
        okButtonProps={{ 'data-testid': 'bulk-apply' } as Record<`data-${string}`, string>}
      >
        <Form<BulkForm> form={form} layout="vertical" initialValues={{ direction: 'add' }} onFinish={(v) => void run(v)}>
          {action === 'tag' ? (
            <Form.Item name="tag" label={t('members.f.tags')} rules={[required, { max: 40 }]}>
              <Input autoFocus data-testid="bulk-tag" />
            </Form.Item>
          ) : (
            <>
              <Form.Item name="direction">
                <Radio.Group
                  options={[
                    { value: 'add', label: t('memberList.bulk.add') },
                    { value: 'remove', label: t('memberList.bulk.remove') },
                  ]}
                />
              </Form.Item>
              <Form.Item name="points" label={t('memberList.points')} rules={[required]}>
                <InputNumber min={1} precision={0} style={{ width: '100%' }} />
              </Form.Item>
              <Form.Item name="reason" label={t('memberList.bulk.reason')} rules={[required, { max: 200 }]}>
                <Input />
              </Form.Item>
            </>
          )}
        </Form>
        {running && <Progress percent={Math.round((done * 100) / ids.length)} />}
        <Typography.Text type="secondary">{t('memberList.bulk.note', { count: ids.length })}</Typography.Text>
      </Modal>
    </>
  );
}
