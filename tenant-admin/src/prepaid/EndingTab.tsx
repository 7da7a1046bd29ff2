// 即将到期: active memberships ending within the chosen number of days, soonest first,
// with the member's name and the days left (the reminder list until messages send one).
import { useState } from 'react';
import { Segmented, Table, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { errorText } from '../common/forms';
import { fetchEnding, prepaidKeys, type Membership } from './api';
import { addDays, daysBetween } from './money';
import { MemberName, missingFeature, PlanMissing, useMoney, useToday } from './parts';

const WINDOWS = [7, 14, 30, 60] as const;

export function EndingTab() {
  const { t } = useTranslation();
  const money = useMoney();
  const today = useToday();
  const [days, setDays] = useState<number>(30);
  const ending = useQuery({ queryKey: prepaidKeys.ending(days), queryFn: () => fetchEnding(days), retry: false });
  if (missingFeature(ending.error)) return <PlanMissing feature="memberships" />;
  return (
    <div data-testid="prepaid-ending">
      <div className="page-toolbar">
        <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
          {t('prepaid.ending.help')}
        </Typography.Paragraph>
        <Segmented<number>
          value={days}
          onChange={setDays}
          options={WINDOWS.map((d) => ({ value: d, label: t('prepaid.ending.within', { count: d }) }))}
          data-testid="prepaid-ending-days"
        />
      </div>
      <Table<Membership>
        size="small"
        rowKey="id"
        loading={ending.isPending}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        scroll={{ x: 600 }}
        dataSource={ending.data ?? []}
        locale={{ emptyText: ending.isError ? errorText(t, ending.error) : t('prepaid.ending.none') }}
        columns={[
          { title: t('prepaid.ending.member'), dataIndex: 'member_id', render: (id: string) => <MemberName id={id} /> },
          { title: t('prepaid.member.plan'), dataIndex: 'plan_name' },
          { title: t('prepaid.member.lastDay'), dataIndex: 'ends_on', render: (v: string) => addDays(v, -1) },
          {
            title: t('prepaid.ending.left'),
            key: 'left',
            render: (_, m) => {
              const left = daysBetween(today, m.ends_on);
              return <Tag color={left <= 7 ? 'red' : 'orange'}>{t('prepaid.ending.daysLeft', { count: left })}</Tag>;
            },
          },
          { title: t('prepaid.member.paid'), dataIndex: 'paid', render: (v: number) => money(v), align: 'right' },
        ]}
      />
    </div>
  );
}
