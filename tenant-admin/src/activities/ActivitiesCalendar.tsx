// 活动日历: the business's activities on a month calendar (antd Calendar), each on the local
// day it starts in the business's time zone, with its time and state; a click opens it.
import { Badge, Calendar } from 'antd';
import type { Dayjs } from 'dayjs';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import type { Activity } from './api';
import { byLocalDay, countInMonth } from './calendar';
import { toLocalInput } from './time';

const COLOURS: Record<string, 'default' | 'processing' | 'success' | 'error' | 'warning'> = {
  draft: 'default',
  published: 'processing',
  closed: 'warning',
  finished: 'success',
  cancelled: 'error',
};

export function ActivitiesCalendar({ activities, zone }: { activities: readonly Activity[]; zone: string }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const days = useMemo(() => byLocalDay(activities, zone), [activities, zone]);
  const cellRender = (d: Dayjs, info: { type: string }) => {
    if (info.type === 'month') {
      const n = countInMonth(days, d.format('YYYY-MM'));
      return n > 0 ? <span data-testid="activities-month-count">{t('activities.calendar.count', { count: n })}</span> : null;
    }
    if (info.type !== 'date') return null;
    const list = days.get(d.format('YYYY-MM-DD')) ?? [];
    return (
      <ul className="activities-calendar-day" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
        {list.map((a) => (
          <li key={a.id}>
            <a
              onClick={(e) => {
                e.stopPropagation();
                void navigate(`/activities/${a.id}`);
              }}
              data-testid={`calendar-activity-${a.title}`}
            >
              <Badge
                status={COLOURS[a.status] ?? 'default'}
                text={`${toLocalInput(a.starts_at, zone).slice(11)} ${a.title}`}
              />
            </a>
          </li>
        ))}
      </ul>
    );
  };
  return <Calendar cellRender={cellRender} data-testid="activities-calendar" />;
}
