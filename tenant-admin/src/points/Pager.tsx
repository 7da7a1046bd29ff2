// "Newer" and "older" under a list that pages with a cursor.
import { Button, Space } from 'antd';
import { useTranslation } from 'react-i18next';

export function Pager(props: { hasNewer: boolean; hasOlder: boolean; onNewer: () => void; onOlder: () => void }) {
  const { t } = useTranslation();
  if (!props.hasNewer && !props.hasOlder) return null;
  return (
    <Space style={{ marginTop: 12 }}>
      <Button size="small" disabled={!props.hasNewer} onClick={props.onNewer}>
        {t('points.member.newer')}
      </Button>
      <Button size="small" disabled={!props.hasOlder} onClick={props.onOlder}>
        {t('points.member.older')}
      </Button>
    </Space>
  );
}
