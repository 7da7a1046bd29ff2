// Member search: every filter the API offers, keyset pages, sorting, export.
import { useMemo, useState } from 'react';
import { Alert, App, Button, Col, Collapse, Form, Input, Row, Select, Space, Switch, Table, Tag, Typography } from 'antd';
import { DownloadOutlined, PlusOutlined, SearchOutlined, UploadOutlined } from '@ant-design/icons';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { saveBlob } from '../common/download';
import { errorText } from '../common/forms';
import { useAuth } from '../auth/AuthContext';
import { useFields } from '../fields/queries';
import type { FieldDto } from '../fields/schema';
import { exportMembers, membersKeys, searchMembers } from './api';
import { CustomConditionRow } from './CustomConditionRow';
import { EVERYONE, toSearch, type MemberSearch, type SearchValues } from './search';
import type { Member } from './profile';
import './members.css';

const PAGE = 50;

/** Member search: every filter the API offers, keyset pages, sorting, export. */
export function MembersPage() {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [form] = Form.useForm<SearchValues>();
  const fieldsQuery = useFields();
  const fields = useMemo(() => fieldsQuery.data?.fields ?? [], [fieldsQuery.data]);
  const [search, setSearch] = useState<MemberSearch>(EVERYONE);
  const [exporting, setExporting] = useState<string>();

  const results = useInfiniteQuery({
    queryKey: membersKeys.search(search),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => searchMembers({ ...search, after: pageParam, limit: PAGE }),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = results.data?.pages.flatMap((p) => p.items) ?? [];

  const label = (f: FieldDto) => (i18n.language === 'en' ? f.label.en || f.label['zh-CN'] : f.label['zh-CN'] || f.label.en);

  async function exportAs(format: 'csv' | 'xlsx') {
    setExporting(format);
    try {
      saveBlob(await exportMembers(format, search), `members.${format}`);
    } catch (err) {
      void message.error(errorText(t, err));
    } finally {
      setExporting(undefined);
    }
  }

  const date = <Input type="date" />;
  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={2}>{t('members.title')}</Typography.Title>
        <Space wrap>
          {can('members:import') && (
            <Button icon={<UploadOutlined />} onClick={() => navigate('/members/import')}>
              {t('members.import.title')}
            </Button>
          )}
          {can('members:export') && (
            <>
              <Button icon={<DownloadOutlined />} loading={exporting === 'csv'} onClick={() => void exportAs('csv')} data-testid="export-csv">
                {t('members.exportCsv')}
              </Button>
              <Button icon={<DownloadOutlined />} loading={exporting === 'xlsx'} onClick={() => void exportAs('xlsx')}>
                {t('members.exportXlsx')}
              </Button>
            </>
          )}
          {can('members:write') && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate('/members/new')} data-testid="member-add">
              {t('members.register')}
            </Button>
          )}
        </Space>
      </div>
      <Form<SearchValues>
        form={form}
        layout="vertical"
        name="member-search"
        className="member-search"
        initialValues={{ sort: 'created', descending: true, custom: [] }}
        onFinish={(v) => setSearch(toSearch(v, fields))}
      >
        <Row gutter={12}>
          <Col xs={24} sm={12} lg={6}>
            <Form.Item name="name" label={t('members.f.name')}>
              <Input allowClear />
            </Form.Item>
          </Col>
          <Col xs={24} sm={12} lg={6}>
            <Form.Item name="card_number" label={t('members.f.card_number')}>
              <Input allowClear />
            </Form.Item>
          </Col>
          <Col xs={24} sm={12} lg={6}>
            <Form.Item name="phone" label={t('members.f.phone')}>
              <Input allowClear type="tel" />
            </Form.Item>
          </Col>
          <Col xs={24} sm={12} lg={6}>
            <Form.Item name="email" label={t('members.f.email')}>
              <Input allowClear type="email" />
            </Form.Item>
          </Col>
        </Row>
        <Collapse
          ghost
          size="small"
          items={[
            {
              key: 'more',
              label: t('members.moreFilters'),
              children: (
                <>
                  <Row gutter={12}>
                    <Col xs={24} sm={12} lg={6}>
                      <Form.Item name="tags" label={t('members.f.tags')}>
                        <Select mode="tags" open={false} suffixIcon={null} tokenSeparators={[',', '，']} />
                      </Form.Item>
                    </Col>
                    <Col xs={12} lg={3}>
                      <Form.Item name="joined_from" label={t('members.joinedFrom')}>{date}</Form.Item>
                    </Col>
                    <Col xs={12} lg={3}>
                      <Form.Item name="joined_to" label={t('members.joinedTo')}>{date}</Form.Item>
                    </Col>
                    <Col xs={12} lg={3}>
                      <Form.Item name="birthday_from" label={t('members.birthdayFrom')}>{date}</Form.Item>
                    </Col>
                    <Col xs={12} lg={3}>
                      <Form.Item name="birthday_to" label={t('members.birthdayTo')}>{date}</Form.Item>
                    </Col>
                    <Col xs={12} lg={4}>
                      <Form.Item name="sort" label={t('members.sortBy')}>
                        <Select
                          options={(['created', 'join_date', 'birthday', 'name'] as const).map((s) => ({
                            value: s,
                            label: t(`members.sort.${s}`),
                          }))}
                        />
                      </Form.Item>
                    </Col>
                    <Col xs={12} lg={2}>
                      <Form.Item name="descending" label={t('members.descending')} valuePropName="checked">
                        <Switch />
                      </Form.Item>
                    </Col>
                  </Row>
                  {fields.length > 0 && (
                    <Form.List name="custom">
                      {(items, { add, remove }) => (
                        <>
                          {items.map((item) => (
                            <CustomConditionRow key={item.key} name={item.name} fields={fields} label={label} onRemove={() => remove(item.name)} />
                          ))}
                          <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({})} style={{ marginBottom: 16 }}>
                            {t('members.addCondition')}
                          </Button>
                        </>
                      )}
                    </Form.List>
                  )}
                </>
              ),
            },
          ]}
        />
        <Space style={{ marginBottom: 16 }}>
          <Button type="primary" htmlType="submit" icon={<SearchOutlined />} data-testid="member-search">
            {t('members.search')}
          </Button>
          <Button
            onClick={() => {
              form.resetFields();
              setSearch(EVERYONE);
            }}
          >
            {t('members.reset')}
          </Button>
        </Space>
      </Form>
      {results.isError && <Alert type="error" showIcon message={errorText(t, results.error)} style={{ marginBottom: 16 }} />}
      <Table<Member>
        rowKey="id"
        size="small"
        loading={results.isPending}
        dataSource={rows}
        pagination={false}
        scroll={{ x: 'max-content' }}
        columns={[
          {
            title: t('members.f.name'),
            dataIndex: 'name',
            render: (n: string, m) => <Link to={`/members/${m.id}`}>{n || t('members.erasedName')}</Link>,
          },
          { title: t('members.f.card_number'), dataIndex: 'card_number', render: (c?: string) => <span className="mono">{c}</span> },
          { title: t('members.f.phone'), dataIndex: 'phone' },
          { title: t('members.f.email'), dataIndex: 'email' },
          { title: t('members.f.join_date'), dataIndex: 'join_date' },
          {
            title: t('members.f.tags'),
            dataIndex: 'tags',
            render: (tags: string[]) => tags.map((tag) => <Tag key={tag}>{tag}</Tag>),
          },
          {
            title: t('common.status'),
            dataIndex: 'status',
            render: (s: string) => <Tag color={s === 'active' ? 'green' : 'default'}>{t(`members.status.${s}`, { defaultValue: s })}</Tag>,
          },
        ]}
      />
      <div style={{ textAlign: 'center', marginTop: 16 }}>
        {results.hasNextPage ? (
          <Button onClick={() => void results.fetchNextPage()} loading={results.isFetchingNextPage}>
            {t('members.loadMore')}
          </Button>
        ) : (
          results.isSuccess && rows.length > 0 && <Typography.Text type="secondary">{t('members.allShown', { count: rows.length })}</Typography.Text>
        )}
      </div>
    </>
  );
}
