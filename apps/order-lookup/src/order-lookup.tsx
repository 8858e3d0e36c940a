import {useCommand, useConnectionState, useEvent, useHub} from '@switchboard/react';
import {OrderPlaced, OrderShipped, PRODUCTS, Restock, shopHub} from '@switchboard/shop-contracts';
import {describeCommandError} from '@switchboard/signalr';
import {useState} from 'react';

/** How many orders the list keeps. */
const KEPT = 10;

/** Styles of the app's shadow root: the page's CSS stays out, these stay in. */
export const styles = `
  :host { display: block; font: inherit; }
  ul { margin: 0 0 0.75rem; padding-left: 1.1rem; }
  .empty, .note { color: var(--sb-muted, #5c6370); font-size: 0.9rem; }
  form { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
  select, button { font: inherit; padding: 0.25rem 0.5rem; border-radius: 6px; border: 1px solid var(--sb-border, #c8ccd4); }
  button { border-color: var(--sb-accent, #3b5bdb); color: var(--sb-accent, #3b5bdb); background: none; cursor: pointer; }
  button:focus-visible, select:focus-visible { outline: 3px solid var(--sb-focus, #91a7ff); outline-offset: 2px; }
  .error { color: var(--sb-bad, #c92a2a); font-size: 0.85rem; }
`;

/**
 * Recent orders and their shipping, written in React: `order.placed` and `order.shipped` events
 * pushed by the server (the hub bridge follows the `orders` topic while this component wants its
 * types), and a restock form that sends the `inventory.restock` command. Everything ends when the
 * element is removed.
 */
export function OrderLookup(props: {limit?: number}) {
  useHub('/hubs/events', shopHub);
  const connection = useConnectionState();
  const [orders, setOrders] = useState<ReadonlyArray<{id: string; shipped: boolean}>>([]);
  const [sku, setSku] = useState<string>(PRODUCTS[0]!.sku);
  const [result, setResult] = useState<{ok: boolean; text: string} | undefined>(undefined);
  const restock = useCommand(Restock, {timeoutMs: 30_000});
  useEvent(OrderPlaced, (e) =>
    setOrders((list) => (list.some((o) => o.id === e.data.orderId) ? list : [{id: e.data.orderId, shipped: false}, ...list].slice(0, props.limit ?? KEPT))),
  );
  useEvent(OrderShipped, (e) =>
    setOrders((list) =>
      list.some((o) => o.id === e.data.orderId)
        ? list.map((o) => (o.id === e.data.orderId ? {...o, shipped: true} : o))
        : [{id: e.data.orderId, shipped: true}, ...list].slice(0, props.limit ?? KEPT),
    ),
  );

  const onSubmit = (event: {preventDefault(): void}): void => {
    event.preventDefault();
    setResult(undefined);
    restock({sku, quantity: 5}).then(
      () => setResult({ok: true, text: `Restocked 5 × ${sku}.`}),
      (error: unknown) => {
        if ((error as Error).name !== 'AbortError') setResult({ok: false, text: describeCommandError(error, 'The restock')});
      },
    );
  };

  return (
    <>
      <p className="note" data-connection={connection.status}>hub: {connection.status}</p>
      {orders.length === 0 ? (
        <p className="empty">No orders yet.</p>
      ) : (
        <ul aria-label="Recent orders">
          {orders.map((o) => (
            <li key={o.id} data-order={o.id} data-status={o.shipped ? 'shipped' : 'placed'}>
              {o.id} {o.shipped ? 'shipped' : 'placed'}
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={onSubmit} aria-label="Restock">
        <label>
          Product{' '}
          <select value={sku} onChange={(e) => setSku(e.target.value)}>
            {PRODUCTS.map((p) => (
              <option key={p.sku} value={p.sku}>{p.name}</option>
            ))}
          </select>
        </label>
        <button type="submit">Restock 5</button>
      </form>
      {result === undefined ? null : (
        <p className={result.ok ? 'note' : 'error'} role={result.ok ? 'status' : 'alert'}>{result.text}</p>
      )}
    </>
  );
}
