import { useMemo, useState } from 'react';
import { Alert, App, Button, Col, Collapse, Form, Input, InputNumber, Row, Select, Space, Switch, Table, Tag, Typography } from 'antd';
import { DownloadOutlined, MinusCircleOutlined, PlusOutlined, SearchOutlined, UploadOutlined } from '@ant-design/icons';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { saveBlob } from '../common/download';
import { errorText } from '../common/forms';
import { useAuth } from '../auth/AuthContext';
import { useFields } from '../fields/queries';
import type { FieldDto } from '../fields/schema';
import { conditionKind, EVERYONE, toSearch, type MemberSearch, type SearchValues } from './search';
import { exportMembers, membersKeys, searchMembers } from './api';
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

function CustomConditionRow({
  name,
  fields,
  label,
  onRemove,
}: {
  name: number;
  fields: readonly FieldDto[];
  label: (f: FieldDto) => string;
  onRemove: () => void;
}) {
  const { t, i18n } = useTranslation();
  const form = Form.useFormInstance<SearchValues>();
  const key = Form.useWatch(['custom', name, 'field'], form) as string | undefined;
  const field = fields.find((f) => f.key === key);
  const kind = conditionKind(field);
  const optionLabel = (l: { 'zh-CN': string; en: string }) => (i18n.language === 'en' ? l.en || l['zh-CN'] : l['zh-CN'] || l.en);
  return (
    <Row gutter={8} align="bottom" className="custom-condition">
      <Col xs={24} sm={8}>
        <Form.Item name={[name, 'field']} label={t('members.customField')}>
          <Select options={fields.map((f) => ({ value: f.key, label: label(f) }))} />
        </Form.Item>
      </Col>
      {kind === 'number' && (
        <>
          <Col xs={10} sm={6}>
            <Form.Item name={[name, 'min']} label={t('members.min')}>
              <InputNumber style={{ width: '100%' }} />
            </Form.Item>
          </Col>
          <Col xs={10} sm={6}>
            <Form.Item name={[name, 'max']} label={t('members.max')}>
              <InputNumber style={{ width: '100%' }} />
            </Form.Item>
          </Col>
        </>
      )}
      {kind === 'date' && (
        <>
          <Col xs={10} sm={6}>
            <Form.Item name={[name, 'from']} label={t('members.from')}>
              <Input type="date" />
            </Form.Item>
          </Col>
          <Col xs={10} sm={6}>
            <Form.Item name={[name, 'to']} label={t('members.to')}>
              <Input type="date" />
            </Form.Item>
          </Col>
        </>
      )}
      {kind === 'bool' && (
        <Col xs={20} sm={12}>
          <Form.Item name={[name, 'eq']} label={t('members.equals')}>
            <Select
              allowClear
              options={[
                { value: 'true', label: t('members.yes') },
                { value: 'false', label: t('members.no') },
              ]}
            />
          </Form.Item>
        </Col>
      )}
      {kind === 'select' && (
        <Col xs={20} sm={12}>
          <Form.Item name={[name, 'eq']} label={t('members.equals')}>
            <Select allowClear options={(field?.options ?? []).map((o) => ({ value: o.value, label: optionLabel(o.label) }))} />
          </Form.Item>
        </Col>
      )}
      {kind === 'text' && (
        <Col xs={20} sm={12}>
          <Form.Item name={[name, 'eq']} label={t('members.equals')}>
            <Input />
          </Form.Item>
        </Col>
      )}
      <Col xs={4} sm={4}>
        <Form.Item>
          <Button type="text" icon={<MinusCircleOutlined />} onClick={onRemove} aria-label={t('members.removeCondition')} />
        </Form.Item>
      </Col>
    </Row>
  );
}
