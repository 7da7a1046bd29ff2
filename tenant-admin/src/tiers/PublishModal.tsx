// Publishing a ladder: what it does, and a note for the version.
import { useState } from 'react';
import { Input, Modal, Typography } from 'antd';
import { useTranslation } from 'react-i18next';

export function PublishModal(props: { loading: boolean; onCancel: () => void; onPublish: (note: string) => void }) {
  const { t } = useTranslation();
  const [note, setNote] = useState('');
  return (
    <Modal
      open
      title={t('tiers.publish.title')}
      okText={t('tiers.publish.confirm')}
      onOk={() => props.onPublish(note.trim())}
      onCancel={props.onCancel}
      confirmLoading={props.loading}
      okButtonProps={{ 'data-testid': 'tiers-publish-confirm' } as Record<string, string>}
    >
      <Typography.Paragraph>{t('tiers.publish.explain')}</Typography.Paragraph>
      <Input.TextArea
        value={note}
        maxLength={500}
        rows={3}
        placeholder={t('tiers.publish.note')}
        aria-label={t('tiers.publish.note')}
        onChange={(e) => setNote(e.target.value)}
      />
    </Modal>
  );
}
