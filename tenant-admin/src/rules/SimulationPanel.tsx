// Runs the script in the editor over the last N purchases and/or events typed in, next to the
// version in force, and shows what would change. Nothing is written.
import { useState } from 'react';
import { Link } from 'react-router';
import { Alert, Button, Checkbox, Col, Form, Input, InputNumber, Row, Statistic, Table, Tag, Typography } from 'antd';
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { ApiProblem } from '../api/errors';
import { errorText } from '../common/forms';
import { simulateRule } from './api';
import { failureText } from './diagnostics';
import { signed, simulateBody, sortedCases, summarise, type TypedEvent } from './simulation';
import { kindOfTrigger } from './template';
import { currencySymbol } from '../common/format';
import { reasonText } from '../common/reasons';

type Simulation = Schemas['Simulation'];
type SimCase = Schemas['SimCase'];

interface SimForm {
  last: number | null;
  events: TypedEvent[];
}

export function SimulationPanel({ trigger, script, digits, currency }: { trigger: string; script: string; digits: number; currency: string }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<SimForm>();
  const [onlyChanged, setOnlyChanged] = useState(false);
  const purchase = kindOfTrigger(trigger) === 'purchase';
  const run = useMutation({
    mutationFn: (v: SimForm) =>
      simulateRule(simulateBody({ trigger, script, lastPurchases: purchase ? v.last : 0, events: v.events ?? [] }, digits)),
  });
  const error =
    run.error instanceof ApiProblem && run.error.fields.length
      ? run.error.fields.map((f) => `${f.field}: ${f.problem}`).join('; ')
      : run.error
        ? errorText(t, run.error)
        : undefined;

  return (
    <>
      <Typography.Paragraph type="secondary">{t('rules.sim.intro')}</Typography.Paragraph>
      <Form<SimForm>
        form={form}
        name="rule-simulation"
        layout="vertical"
        initialValues={{ last: purchase ? 100 : null, events: purchase ? [] : [{}] }}
        onFinish={(v) => run.mutate(v)}
      >
        {purchase && (
          <Form.Item name="last" label={t('rules.sim.last')} extra={t('rules.sim.lastHelp')}>
            <InputNumber min={0} max={10000} precision={0} data-testid="sim-last" />
          </Form.Item>
        )}
        <Typography.Text strong>{t('rules.sim.events')}</Typography.Text>
        <Form.List name="events">
          {(fields, { add, remove }) => (
            <>
              {fields.map(({ key, name }) => (
                <Row gutter={8} key={key} style={{ marginTop: 8 }}>
                  <Col xs={12} md={3}>
                    <Form.Item name={[name, 'amount']} label={t('rules.sim.amount', { currency: currencySymbol(currency) })}>
                      <InputNumber min={0} precision={digits} style={{ width: '100%' }} />
                    </Form.Item>
                  </Col>
                  <Col xs={12} md={5}>
                    <Form.Item name={[name, 'time']} label={t('rules.sim.time')}>
                      <Input type="datetime-local" />
                    </Form.Item>
                  </Col>
                  {purchase && (
                    <>
                      <Col xs={12} md={3}>
                        <Form.Item name={[name, 'category']} label={t('rules.form.category')}>
                          <Input />
                        </Form.Item>
                      </Col>
                      <Col xs={12} md={3}>
                        <Form.Item name={[name, 'sku']} label={t('rules.form.sku')}>
                          <Input />
                        </Form.Item>
                      </Col>
                    </>
                  )}
                  <Col xs={12} md={2}>
                    <Form.Item name={[name, 'tier']} label={t('rules.form.tier')}>
                      <Input />
                    </Form.Item>
                  </Col>
                  <Col xs={12} md={2}>
                    <Form.Item name={[name, 'visits']} label={t('rules.sim.visits')} tooltip={t('rules.sim.visitsHelp')}>
                      <InputNumber min={0} precision={0} style={{ width: '100%' }} />
                    </Form.Item>
                  </Col>
                  <Col xs={12} md={3}>
                    <Form.Item name={[name, 'birthday']} label={t('rules.sim.birthday')}>
                      <Input type="date" />
                    </Form.Item>
                  </Col>
                  <Col xs={10} md={2}>
                    <Form.Item name={[name, 'points_today']} label={t('rules.sim.pointsToday')}>
                      <InputNumber min={0} precision={0} style={{ width: '100%' }} />
                    </Form.Item>
                  </Col>
                  <Col xs={2} md={1}>
                    <Form.Item label=" ">
                      <Button icon={<DeleteOutlined />} aria-label={t('rules.form.remove')} onClick={() => remove(name)} />
                    </Form.Item>
                  </Col>
                </Row>
              ))}
              <div>
                <Button icon={<PlusOutlined />} onClick={() => add({ visits: 1 })} style={{ margin: '8px 0 16px' }} data-testid="sim-add-event">
                  {t('rules.sim.addEvent')}
                </Button>
              </div>
            </>
          )}
        </Form.List>
        <Button type="primary" htmlType="submit" loading={run.isPending} disabled={!script.trim()} data-testid="sim-run">
          {t('rules.sim.run')}
        </Button>
      </Form>
      {error && <Alert type="error" showIcon role="alert" message={error} style={{ marginTop: 16 }} />}
      {run.data && (
        <SimulationResult sim={run.data} onlyChanged={onlyChanged} setOnlyChanged={setOnlyChanged} />
      )}
    </>
  );
}

function SimulationResult(props: { sim: Simulation; onlyChanged: boolean; setOnlyChanged: (v: boolean) => void }) {
  const { t, i18n } = useTranslation();
  const { sim } = props;
  const s = summarise(sim);
  const diffColour = (n: number) => (n > 0 ? '#389e0d' : n < 0 ? '#cf1322' : undefined);
  return (
    <div data-testid="sim-result" style={{ marginTop: 24 }}>
      {!s.compared && <Alert type="info" showIcon message={t('rules.sim.nothingActive')} style={{ marginBottom: 16 }} />}
      {s.errors > 0 && (
        <Alert type="warning" showIcon message={t('rules.sim.errors', { n: s.errors })} style={{ marginBottom: 16 }} />
      )}
      <Row gutter={[16, 16]}>
        <Col xs={12} md={4}>
          <Statistic title={t('rules.sim.cases')} value={s.cases} />
        </Col>
        <Col xs={12} md={5}>
          <div data-testid="sim-draft-total">
            <Statistic title={t('rules.sim.draftPoints')} value={s.draft} />
          </div>
        </Col>
        <Col xs={12} md={5}>
          <Statistic
            title={s.compared ? t('rules.sim.activePoints', { version: sim.active_version }) : t('rules.sim.activeNone')}
            value={s.active}
          />
        </Col>
        <Col xs={12} md={5}>
          <Statistic
            title={t('rules.sim.difference')}
            value={signed(s.difference)}
            valueStyle={{ color: diffColour(s.difference) }}
            suffix={s.percent !== undefined ? <small>({signed(s.percent)}%)</small> : undefined}
          />
        </Col>
        <Col xs={12} md={5}>
          <Statistic title={t('rules.sim.changed')} value={s.changed} />
        </Col>
      </Row>
      <Typography.Title level={5} style={{ marginTop: 16 }}>
        {t('rules.sim.perCase')}
      </Typography.Title>
      <Checkbox checked={props.onlyChanged} onChange={(e) => props.setOnlyChanged(e.target.checked)} style={{ marginBottom: 8 }}>
        {t('rules.sim.onlyChanged')}
      </Checkbox>
      <Table<SimCase>
        rowKey="index"
        size="small"
        dataSource={sortedCases(sim.cases, props.onlyChanged)}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        scroll={{ x: 'max-content' }}
        columns={[
          {
            title: t('rules.sim.case'),
            key: 'case',
            render: (_, c) =>
              c.purchase_id ? (
                <Typography.Text code title={c.purchase_id}>
                  {t('rules.sim.purchase')} …{shortId(c.purchase_id)}
                </Typography.Text>
              ) : (
                t('rules.sim.typedEvent', { n: c.index + 1 })
              ),
          },
          {
            title: t('rules.sim.member'),
            dataIndex: 'member_id',
            render: (id?: string) =>
              id ? (
                <Link to={`/members/${id}`} title={id}>
                  <Typography.Text code>…{shortId(id)}</Typography.Text>
                </Link>
              ) : (
                '—'
              ),
          },
          {
            title: t('rules.sim.draft'),
            key: 'draft',
            align: 'right',
            render: (_, c) => (c.draft_error ? <Tag color="red" title={failureText(c.draft_error)}>{t('rules.sim.error')}</Tag> : c.draft_points),
          },
          {
            title: t('rules.sim.active'),
            key: 'active',
            align: 'right',
            render: (_, c) =>
              c.active_error ? <Tag color="red" title={failureText(c.active_error)}>{t('rules.sim.error')}</Tag> : c.active_points,
          },
          {
            title: t('rules.sim.difference'),
            dataIndex: 'difference',
            align: 'right',
            render: (d: number) => <span style={{ color: diffColour(d) }}>{signed(d)}</span>,
          },
          {
            title: t('rules.sim.reasons'),
            key: 'reasons',
            render: (_, c) =>
              c.draft_error
                ? failureText(c.draft_error)
                : c.draft_reasons.map((r, i) => (
                    <div key={i}>
                      {r.line !== undefined && r.line !== null ? `#${r.line + 1} ` : ''}
                      {reasonText(t, r.reason, r.reason_code, r.reason_params as Record<string, unknown> | null | undefined, {
                        lang: i18n.language,
                      })}
                      : {r.points}
                    </div>
                  )),
          },
        ]}
      />
      {sim.most_affected.length > 0 && (
        <>
          <Typography.Title level={5} style={{ marginTop: 16 }}>
            {t('rules.sim.mostAffected')}
          </Typography.Title>
          <Table<Schemas['SimMember']>
            rowKey="member_id"
            size="small"
            pagination={false}
            dataSource={sim.most_affected}
            columns={[
              {
                title: t('rules.sim.member'),
                dataIndex: 'member_id',
                render: (id: string) => (
                  <Link to={`/members/${id}`}>
                    <Typography.Text code>{id}</Typography.Text>
                  </Link>
                ),
              },
              { title: t('rules.sim.draft'), dataIndex: 'draft_points', align: 'right' },
              { title: t('rules.sim.active'), dataIndex: 'active_points', align: 'right' },
              {
                title: t('rules.sim.difference'),
                dataIndex: 'difference',
                align: 'right',
                render: (d: number) => <span style={{ color: diffColour(d) }}>{signed(d)}</span>,
              },
            ]}
          />
        </>
      )}
    </div>
  );
}

/** The random end of an id (ids made close together share their time-based start). */
function shortId(id: string): string {
  return id.replace(/-/g, '').slice(-8);
}
