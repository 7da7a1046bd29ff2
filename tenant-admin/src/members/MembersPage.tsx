// The member list: every filter the API offers, a table with points, tier and last visit,
// header sorting, pages with a total, optional custom-field columns, bulk actions on a
// selection, and exports for people (or in the import's layout).
import { useEffect, useMemo, useState } from 'react';
import { Alert, App, Button, Col, Collapse, Dropdown, Form, Input, Row, Select, Space, Table, Tag, Typography } from 'antd';
import type { TableProps } from 'antd';
import { DownOutlined, DownloadOutlined, LeftOutlined, PlusOutlined, RightOutlined, SearchOutlined, UploadOutlined } from '@ant-design/icons';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { saveBlob } from '../common/download';
import { errorText } from '../common/forms';
import { useAuth } from '../auth/AuthContext';
import { useFields } from '../fields/queries';
import type { FieldDto } from '../fields/schema';
import { exportMembers, membersKeys, searchMembers } from './api';
import { CustomConditionRow } from './CustomConditionRow';
import { EVERYONE, fromSearch, toSearch, type MemberSearch, type SearchValues } from './search';
import { fetchSegment, fetchSegments, segmentKeys, updateSegment, conditionsOf } from '../segments/api';
import { SaveSegmentModal } from '../segments/SegmentsPage';
import { FIRST_PAGE, loadColumns, nextPage, pageCount, previousPage, saveColumns, sortFromHeader, type MemberRow, type SortBy } from './list';
import { BulkActions } from './BulkActions';
import { formatDateTime, nameIn } from '../common/format';
import './members.css';

const PAGE_SIZES = [20, 50, 100];

/** Member search: every filter the API offers, keyset pages, sorting, export. */
export function MembersPage() {
  const { t, i18n } = useTranslation();
  const { can, me } = useAuth();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [form] = Form.useForm<SearchValues>();
  const fieldsQuery = useFields();
  const fields = useMemo(() => fieldsQuery.data?.fields ?? [], [fieldsQuery.data]);
  const [search, setSearch] = useState<MemberSearch>(EVERYONE);
  const [sort, setSort] = useState<{ sort: SortBy; descending: boolean }>({ sort: 'created', descending: true });
  const [pageSize, setPageSize] = useState(50);
  const [pages, setPages] = useState(FIRST_PAGE);
  const [selected, setSelected] = useState<string[]>([]);
  const [columns, setColumns] = useState<string[]>(() => loadColumns());
  const [exporting, setExporting] = useState<string>();
  const en = i18n.language === 'en';
  const qc = useQueryClient();
  // A saved segment opened here (`?segment=<id>`): its filter fills the form and the search.
  const [params, setParams] = useSearchParams();
  const segmentId = params.get('segment') ?? undefined;
  const [savingSegment, setSavingSegment] = useState(false);
  // Saved segments come with the plan's campaigns: without them the list is not asked for.
  const segments = useQuery({
    queryKey: segmentKeys.list(),
    queryFn: fetchSegments,
    retry: false,
    enabled: me?.features.includes('campaigns') ?? false,
  });
  const segment = useQuery({
    queryKey: segmentKeys.detail(segmentId ?? ''),
    queryFn: () => fetchSegment(segmentId ?? ''),
    enabled: segmentId !== undefined,
    retry: false,
  });
  useEffect(() => {
    if (!segment.data) return;
    form.resetFields();
    form.setFieldsValue(fromSearch(segment.data.filter) as Parameters<typeof form.setFieldsValue>[0]);
    setSearch({ ...EVERYONE, ...segment.data.filter });
    setPages(FIRST_PAGE);
    setSelected([]);
  }, [segment.data, form]);
  const saveIntoSegment = useMutation({
    mutationFn: () => updateSegment(segmentId ?? '', { name: segment.data?.name ?? '', filter: conditionsOf(search) }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: segmentKeys.all });
      void message.success(t('segments.saved'));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });

  const query: MemberSearch = { ...search, ...sort, limit: pageSize, after: pages.cursors[pages.index] };
  const results = useQuery({
    queryKey: membersKeys.search(query),
    queryFn: () => searchMembers(query),
    placeholderData: keepPreviousData,
  });
  const rows = results.data?.items ?? [];
  const total = results.data?.total ?? 0;

  const label = (f: FieldDto) => nameIn(f.label, i18n.language);
  const restart = () => {
    setPages(FIRST_PAGE);
    setSelected([]);
  };

  async function exportAs(format: 'csv' | 'xlsx', layout: 'people' | 'machine', only?: string[]) {
    setExporting(`${format}-${layout}`);
    try {
      const body = only ? { ...EVERYONE, ids: only } : search;
      saveBlob(await exportMembers(format, body, layout, i18n.language), `members.${format}`);
    } catch (err) {
      void message.error(errorText(t, err));
    } finally {
      setExporting(undefined);
    }
  }

  const customCell = (f: FieldDto, v: unknown): string => {
    if (v === undefined || v === null || v === '') return '';
    const one = (x: unknown): string => {
      if (typeof x === 'boolean') return x ? t('members.yes') : t('members.no');
      const o = f.options?.find((opt) => opt.value === x);
      if (o) return nameIn(o.label, i18n.language);
      return String(x);
    };
    return Array.isArray(v) ? v.map(one).join(en ? ', ' : '、') : one(v);
  };

  const sortOrder = (key: string) => (sort.sort === key ? (sort.descending ? 'descend' : 'ascend') : null);
  const onTableChange: TableProps<MemberRow>['onChange'] = (_p, _f, sorter) => {
    const s = Array.isArray(sorter) ? sorter[0] : sorter;
    setSort(sortFromHeader(s?.columnKey as string | undefined, s?.order));
    restart();
  };
  const pageCountNow = pageCount(total, pageSize);

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
              <Button icon={<DownloadOutlined />} loading={exporting === 'xlsx-people'} onClick={() => void exportAs('xlsx', 'people')} data-testid="export-xlsx">
                {t('members.exportXlsx')}
              </Button>
              <Dropdown
                menu={{
                  items: [
                    { key: 'csv-people', label: t('memberList.exportCsvPeople') },
                    { key: 'csv-machine', label: t('memberList.exportCsvMachine') },
                    { key: 'xlsx-machine', label: t('memberList.exportXlsxMachine') },
                  ],
                  onClick: ({ key }) => {
                    const [format, layout] = key.split('-') as ['csv' | 'xlsx', 'people' | 'machine'];
                    void exportAs(format, layout);
                  },
                }}
              >
                <Button loading={exporting !== undefined && exporting !== 'xlsx-people'} data-testid="export-more">
                  {t('memberList.moreExports')} <DownOutlined />
                </Button>
              </Dropdown>
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
        onFinish={(v) => {
          setSearch(toSearch(v, fields));
          restart();
        }}
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
        <Space wrap style={{ marginBottom: 16 }}>
          <Button type="primary" htmlType="submit" icon={<SearchOutlined />} data-testid="member-search">
            {t('members.search')}
          </Button>
          <Button
            onClick={() => {
              form.resetFields();
              setSearch(EVERYONE);
              setParams({});
              restart();
            }}
          >
            {t('members.reset')}
          </Button>
          {segments.isSuccess && can('campaigns:manage') && (
            <Button onClick={() => setSavingSegment(true)} data-testid="segment-save-as">
              {t('segments.saveAs')}
            </Button>
          )}
          {segment.data && can('campaigns:manage') && (
            <Button onClick={() => saveIntoSegment.mutate()} loading={saveIntoSegment.isPending} data-testid="segment-save-into">
              {t('segments.saveInto', { name: segment.data.name })}
            </Button>
          )}
          {segments.isSuccess && segments.data.length > 0 && (
            <Select
              allowClear
              style={{ minWidth: 180 }}
              placeholder={t('segments.openPlaceholder')}
              value={segmentId}
              onChange={(id?: string) => setParams(id ? { segment: id } : {})}
              options={segments.data.map((x) => ({ value: x.id, label: x.name }))}
              data-testid="segment-pick"
            />
          )}
        </Space>
        {savingSegment && (
          <SaveSegmentModal
            filter={search}
            onClose={() => setSavingSegment(false)}
            onSaved={(x) => {
              setSavingSegment(false);
              void message.success(t('segments.saved'));
              setParams({ segment: x.id });
            }}
          />
        )}
      </Form>
      {results.isError && <Alert type="error" showIcon message={errorText(t, results.error)} style={{ marginBottom: 16 }} />}
      <div className="member-list-bar">
        <Typography.Text data-testid="member-total">
          {results.data?.total_capped ? t('memberList.totalMore', { count: total }) : t('memberList.total', { count: total })}
        </Typography.Text>
        <Space wrap>
          {selected.length > 0 && (
            <BulkActions
              ids={selected}
              rows={rows}
              onExport={() => void exportAs('xlsx', 'people', selected)}
              onDone={() => setSelected([])}
            />
          )}
          {fields.length > 0 && (
            <Select
              mode="multiple"
              allowClear
              maxTagCount={2}
              style={{ minWidth: 200 }}
              placeholder={t('memberList.columns')}
              value={columns}
              onChange={(v: string[]) => {
                setColumns(v);
                saveColumns(v);
              }}
              options={fields.map((f) => ({ value: f.key, label: label(f) }))}
              data-testid="member-columns"
            />
          )}
        </Space>
      </div>
      <Table<MemberRow>
        rowKey="id"
        size="small"
        loading={results.isPending || results.isFetching}
        dataSource={rows}
        pagination={false}
        scroll={{ x: 'max-content' }}
        onChange={onTableChange}
        rowSelection={
          can('members:write')
            ? { selectedRowKeys: selected, onChange: (keys) => setSelected(keys as string[]), preserveSelectedRowKeys: true }
            : undefined
        }
        columns={[
          {
            title: t('members.f.name'),
            key: 'name',
            dataIndex: 'name',
            sorter: true,
            sortOrder: sortOrder('name'),
            fixed: 'left',
            render: (n: string, m) => <Link to={`/members/${m.id}`}>{n || t('members.erasedName')}</Link>,
          },
          { title: t('members.f.phone'), dataIndex: 'phone', render: (p?: string) => <span className="mono">{p}</span> },
          {
            title: t('memberList.tier'),
            key: 'tier',
            render: (_: unknown, m) =>
              m.tier_name ? <Tag color="gold">{nameIn(m.tier_name, i18n.language)}</Tag> : null,
          },
          {
            title: t('memberList.points'),
            key: 'points',
            dataIndex: 'points',
            sorter: true,
            sortOrder: sortOrder('points'),
            align: 'right',
            render: (p: number) => <span data-testid="member-points">{p.toLocaleString(i18n.language)}</span>,
          },
          {
            title: t('memberList.lastVisit'),
            key: 'last_visit_at',
            dataIndex: 'last_visit_at',
            render: (at?: string) => (at ? formatDateTime(at, i18n.language) : <Typography.Text type="secondary">{t('memberList.never')}</Typography.Text>),
          },
          { title: t('members.f.join_date'), key: 'join_date', dataIndex: 'join_date', sorter: true, sortOrder: sortOrder('join_date') },
          { title: t('members.f.card_number'), dataIndex: 'card_number', render: (c?: string) => <span className="mono">{c}</span> },
          {
            title: t('members.f.tags'),
            dataIndex: 'tags',
            render: (tags: string[]) => tags.map((tag) => <Tag key={tag}>{tag}</Tag>),
          },
          ...fields
            .filter((f) => columns.includes(f.key))
            .map((f) => ({
              title: label(f),
              key: `custom.${f.key}`,
              render: (_: unknown, m: MemberRow) => customCell(f, (m.custom as Record<string, unknown> | undefined)?.[f.key]),
            })),
          {
            title: t('common.status'),
            dataIndex: 'status',
            render: (s: string) => <Tag color={s === 'active' ? 'green' : 'default'}>{t(`members.status.${s}`, { defaultValue: s })}</Tag>,
          },
        ]}
      />
      <div className="member-pager">
        <Button icon={<LeftOutlined />} disabled={pages.index === 0} onClick={() => setPages(previousPage(pages))} data-testid="member-prev">
          {t('memberList.previous')}
        </Button>
        <Typography.Text>{t('memberList.page', { page: pages.index + 1, pages: pageCountNow })}</Typography.Text>
        <Button
          disabled={!results.data?.next_cursor}
          onClick={() => setPages(nextPage(pages, results.data?.next_cursor ?? undefined))}
          data-testid="member-next"
        >
          {t('memberList.next')} <RightOutlined />
        </Button>
        <Select
          value={pageSize}
          onChange={(v: number) => {
            setPageSize(v);
            restart();
          }}
          options={PAGE_SIZES.map((n) => ({ value: n, label: t('memberList.perPage', { count: n }) }))}
        />
      </div>
    </>
  );
}
