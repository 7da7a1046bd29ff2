// Publishing a rule: a last word, and a note for the version.
import { useState } from 'react';
import { Form, Input, Modal, Typography } from 'antd';
import { useTranslation } from 'react-i18next';

export function PublishModal(props: { trigger: string; loading: boolean; onCancel: () => void; onPublish: (note: string) => void }) {
  const { t } = useTranslation();
  const [note, setNote] = useState('');
  return (
    <Modal
      open
      title={t('rules.publishTitle', { trigger: props.trigger })}
      okText={t('rules.publish')}
      cancelText={t('common.cancel')}
      confirmLoading={props.loading}
      onCancel={props.onCancel}
      onOk={() => props.onPublish(note.trim())}
      okButtonProps={{ 'data-testid': 'rule-publish-confirm' } as Record<`data-${string}`, string>}
    >
      <Typography.Paragraph>{t('rules.publishConfirm')}</Typography.Paragraph>
      <Form layout="vertical">
        <Form.Item label={t('rules.note')} extra={t('rules.noteHelp')}>
          <Input.TextArea rows={2} maxLength={500} value={note} onChange={(e) => setNote(e.target.value)} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
