// The points mall: the calls of the mall capability and its query keys. The catalogue
// (items, archived instead of deleted), the order queue (by state, by member), moving an
// order (approve, ship, ready, complete, cancel with a reason), completing a pickup by its
// code, placing an order for a member, and the mall's settings. The member's side is in
// `portal/api.ts`.
import { api, call, type Schemas } from '../api/client';

export type MallItem = Schemas['MallItem'];
export type MallItemInput = Schemas['MallItemInput'];
export type MallOrder = Schemas['MallOrder'];
export type MallSettings = Schemas['MallSettings'];

/** The states of an order, in the order it goes through them. */
export const STATES = ['pending', 'approved', 'ready_for_pickup', 'shipped', 'completed', 'cancelled'] as const;
/** The moves staff make. */
export const ACTIONS = ['approve', 'ship', 'ready', 'complete', 'cancel'] as const;
export type Action = (typeof ACTIONS)[number];

export const mallKeys = {
  all: ['mall'] as const,
  items: (archived: boolean) => [...mallKeys.all, 'items', archived] as const,
  /** Every list of orders (invalidated after any move). */
  allOrders: () => [...mallKeys.all, 'orders'] as const,
  orders: (state: string | undefined, memberId?: string) => [...mallKeys.allOrders(), state ?? 'all', memberId ?? ''] as const,
  order: (id: string) => [...mallKeys.allOrders(), 'one', id] as const,
  settings: () => [...mallKeys.all, 'settings'] as const,
};

export const fetchItems = (archived: boolean) => call(api.GET('/mall/items', { params: { query: { archived } } }));

export const createItem = (body: MallItemInput) => call(api.POST('/mall/items', { body }));

export const updateItem = (id: string, body: MallItemInput) =>
  call(api.PUT('/mall/items/{item_id}', { params: { path: { item_id: id } }, body }));

export const setItemArchived = (id: string, archived: boolean) =>
  call(api.PUT('/mall/items/{item_id}/archived', { params: { path: { item_id: id } }, body: { archived } }));

export const fetchOrders = (state: (typeof STATES)[number] | undefined, memberId?: string) =>
  call(api.GET('/mall/orders', { params: { query: { state, member_id: memberId, limit: 200 } } }));

export const fetchOrder = (id: string) => call(api.GET('/mall/orders/{order_id}', { params: { path: { order_id: id } } }));

export const moveOrder = (id: string, body: Schemas['MallOrderMove']) =>
  call(api.POST('/mall/orders/{order_id}/moves', { params: { path: { order_id: id } }, body }));

export const completePickup = (code: string) => call(api.POST('/mall/pickups', { body: { code } }));

export const placeOrder = (memberId: string, body: Schemas['NewMallOrder']) =>
  call(api.POST('/members/{id}/mall/orders', { params: { path: { id: memberId } }, body }));

export const fetchSettings = () => call(api.GET('/mall/settings'));

export const saveSettings = (body: MallSettings) => call(api.PUT('/mall/settings', { body }));

/** A fresh idempotency key for one order or move (a retry of the same click reuses it). */
export const newKey = (): string =>
  typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
