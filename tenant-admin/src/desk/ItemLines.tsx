// The purchase dialog's item lines (optional): name, category, SKU, quantity and unit price
// (in yuan). Name and SKU suggest the business's recent items (`GET /desk/items`), choosing
// one fills the whole line; category offers the business's categories or takes a new one.
// Enter moves to the next field (it never records the purchase); Enter in the last line's
// price starts a new line. On a phone each line stacks in three rows.
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { AutoComplete, Button, Form, InputNumber, Typography } from 'antd';
import { CloseOutlined, PlusOutlined } from '@ant-design/icons';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { currencyDigits } from '../points/reasons';
import { useCouponMoney } from '../coupons/money';
import { deskKeys, fetchDeskItems, type DeskItem } from './api';
import { isBlank, lineFromItem, type ItemLine } from './items';
import { useSettled } from './useSettled';
import './desk.css';

/** The business's recent items matching a text, while a field asks for them. */
function useSuggestions(q: string, enabled: boolean) {
  const settled = useSettled(q.trim(), 200);
  return useQuery({
    queryKey: deskKeys.items(settled),
    queryFn: () => fetchDeskItems(settled),
    enabled,
    staleTime: 30_000,
    placeholderData: keepPreviousData,
    retry: false,
  });
}

/** The currency's sign as prices show it (¥, $), or its code. */
function currencySign(currency: string, lang: string): string {
  try {
    const parts = new Intl.NumberFormat(lang, { style: 'currency', currency }).formatToParts(0);
    return parts.find((p) => p.type === 'currency')?.value ?? currency;
  } catch {
    return currency;
  }
}

/** An item as a suggestion: its name, then its SKU, category and latest price. */
function itemOption(item: DeskItem, money: (minor: number) => string) {
  const key = `${item.sku}\u001f${item.name}\u001f${item.category}`;
  const more = [item.sku, item.category, money(item.unit_price)].filter(Boolean).join(' · ');
  return {
    value: key,
    item,
    label: (
      <div className="desk-item-option">
        <span>{item.name || item.sku}</span>
        <Typography.Text type="secondary">{more}</Typography.Text>
      </div>
    ),
  };
}

/** A line's form items. */
const LINE_ITEMS = ['name', 'category', 'sku', 'quantity', 'price'] as const;

function LineRow({
  index,
  currency,
  categories,
  onRemove,
}: {
  index: number;
  currency: string;
  categories: string[];
  onRemove: () => void;
}) {
  const { t, i18n } = useTranslation();
  const money = useCouponMoney();
  const form = Form.useFormInstance();
  const line = (Form.useWatch(['items', index], form) ?? {}) as ItemLine;
  // The server's problems on the line (shown after a refused purchase) go once it is changed.
  const json = JSON.stringify(line);
  const seen = useRef(json);
  useEffect(() => {
    if (seen.current === json) return;
    seen.current = json;
    const names = LINE_ITEMS.map((f) => ['items', index, f]);
    if (names.some((n) => form.getFieldError(n).length > 0)) form.setFields(names.map((name) => ({ name, errors: [] })));
  }, [json, index, form]);
  // The field whose suggestions are asked for (name or SKU), while it has the focus.
  const [asking, setAsking] = useState<'name' | 'sku'>();
  const typed = asking ? (line[asking] ?? '') : '';
  const found = useSuggestions(typed, asking !== undefined);
  const options = (found.data?.items ?? []).map((i) => itemOption(i, money));
  const pick = (_: string, option: { item?: DeskItem }) => {
    if (!option.item) return;
    form.setFieldValue(['items', index], lineFromItem(option.item, currency, line.quantity));
  };
  const lineNo = index + 1;
  const suggest = (field: 'name' | 'sku') => ({
    options: asking === field ? options : [],
    onFocus: () => setAsking(field),
    onBlur: () => setAsking(undefined),
    onSelect: pick,
    // Enter picks only a suggestion the clerk moved to with the arrow keys.
    defaultActiveFirstOption: false,
    popupMatchSelectWidth: 280,
    style: { width: '100%' },
  });
  const typedCategory = (line.category ?? '').trim().toLowerCase();
  const categoryOptions = categories
    .filter((c) => !typedCategory || c.toLowerCase().includes(typedCategory))
    .map((c) => ({ value: c, label: c }));
  return (
    <div className="desk-item-line" data-testid={`desk-item-${index}`}>
      <Form.Item name={[index, 'name']} className="desk-item-name">
        <AutoComplete
          {...suggest('name')}
          placeholder={t('desk.items.name')}
          aria-label={t('desk.items.nameOf', { n: lineNo })}
          data-testid={`desk-item-name-${index}`}
          maxLength={200}
        />
      </Form.Item>
      <Form.Item name={[index, 'category']} className="desk-item-category">
        <AutoComplete
          options={categoryOptions}
          placeholder={t('desk.items.category')}
          aria-label={t('desk.items.categoryOf', { n: lineNo })}
          data-testid={`desk-item-category-${index}`}
          defaultActiveFirstOption={false}
          maxLength={100}
          style={{ width: '100%' }}
        />
      </Form.Item>
      <Form.Item name={[index, 'sku']} className="desk-item-sku">
        <AutoComplete
          {...suggest('sku')}
          placeholder={t('desk.items.sku')}
          aria-label={t('desk.items.skuOf', { n: lineNo })}
          data-testid={`desk-item-sku-${index}`}
          maxLength={100}
        />
      </Form.Item>
      <Form.Item name={[index, 'quantity']} className="desk-item-quantity">
        <InputNumber
          min={1}
          max={100000}
          precision={0}
          prefix="×"
          inputMode="numeric"
          aria-label={t('desk.items.quantityOf', { n: lineNo })}
          data-testid={`desk-item-quantity-${index}`}
          style={{ width: '100%' }}
        />
      </Form.Item>
      <Form.Item name={[index, 'price']} className="desk-item-price">
        <InputNumber
          min={0}
          precision={currencyDigits(currency)}
          prefix={currencySign(currency, i18n.language)}
          inputMode="decimal"
          placeholder={t('desk.items.price')}
          aria-label={t('desk.items.priceOf', { n: lineNo })}
          data-testid={`desk-item-price-${index}`}
          style={{ width: '100%' }}
        />
      </Form.Item>
      <Button
        className="desk-item-remove"
        type="text"
        icon={<CloseOutlined />}
        onClick={onRemove}
        aria-label={t('desk.items.remove', { n: lineNo })}
        data-testid={`desk-item-remove-${index}`}
      />
    </div>
  );
}

/** The item lines of the purchase form (`items`), with their sum below. */
export function ItemLines({ currency, total }: { currency: string; total?: number }) {
  const { t } = useTranslation();
  const money = useCouponMoney();
  const form = Form.useFormInstance();
  const root = useRef<HTMLDivElement>(null);
  // The business's categories (the answer to an empty text also names the recent items).
  const recent = useQuery({
    queryKey: deskKeys.items(''),
    queryFn: () => fetchDeskItems(''),
    staleTime: 60_000,
    retry: false,
  });
  const categories = recent.data?.categories ?? [];
  const focusLine = (n: number) =>
    window.setTimeout(() => root.current?.querySelector<HTMLElement>(`[data-testid="desk-item-${n}"] input`)?.focus(), 0);
  return (
    <Form.List name="items">
      {(fields, { add, remove }, { errors }) => {
        // Enter goes to the next field of the lines; from the last line's price, to a new line.
        const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
          if (e.key !== 'Enter' || e.nativeEvent.isComposing || !(e.target instanceof HTMLInputElement)) return;
          e.preventDefault();
          const inputs = Array.from(root.current?.querySelectorAll<HTMLInputElement>('.desk-item-line input:not([disabled])') ?? []);
          const at = inputs.indexOf(e.target);
          if (at >= 0 && at < inputs.length - 1) {
            inputs[at + 1]?.focus();
            return;
          }
          const lines = (form.getFieldValue('items') ?? []) as ItemLine[];
          if (!isBlank(lines[lines.length - 1])) {
            add({ quantity: 1 });
            focusLine(fields.length);
          }
        };
        return (
          <div className="desk-items" ref={root} onKeyDown={onKeyDown} data-testid="desk-items">
            <Typography.Text strong>{t('desk.items.title')}</Typography.Text>
            {fields.length > 0 && (
              <div className="desk-item-line desk-item-head" aria-hidden>
                <span className="desk-item-name">{t('desk.items.name')}</span>
                <span className="desk-item-category">{t('desk.items.category')}</span>
                <span className="desk-item-sku">{t('desk.items.sku')}</span>
                <span className="desk-item-quantity">{t('desk.items.quantity')}</span>
                <span className="desk-item-price">{t('desk.items.price')}</span>
              </div>
            )}
            {fields.map((f) => (
              <LineRow
                key={f.key}
                index={f.name}
                currency={currency}
                categories={categories}
                onRemove={() => remove(f.name)}
              />
            ))}
            <Form.ErrorList errors={errors} />
            <div className="desk-items-foot">
              <Button
                type="dashed"
                icon={<PlusOutlined />}
                onClick={() => {
                  add({ quantity: 1 });
                  focusLine(fields.length);
                }}
                data-testid="desk-item-add"
              >
                {t('desk.items.add')}
              </Button>
              {total !== undefined && (
                <span data-testid="desk-items-total">
                  {t('desk.items.total')}
                  <strong>{money(total)}</strong>
                </span>
              )}
            </div>
          </div>
        );
      }}
    </Form.List>
  );
}
