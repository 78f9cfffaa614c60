import type { Counter, Histogram } from 'prom-client';

/**
 * Wraps `target` (an engine or a notification store) so that every method returning a promise is
 * timed into `duration` (seconds) and its rejections counted in `errors`, labelled with the method
 * name (`publish`, `history`, `claimDue`, …: bounded by the contract). Other properties and
 * synchronous methods pass through; `instanceof` still holds. Costs one closure and one `then`
 * per call: engine and store calls are per publication or command, never per delivered message.
 */
export function timed<T extends object, L extends string>(target: T, label: L, duration: Histogram<L>, errors: Counter<L>): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(t, key) {
      const value: unknown = Reflect.get(t, key, t);
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      let w = wrapped.get(key);
      if (w === undefined) {
        const fn = value as (...args: unknown[]) => unknown;
        const labels = { [label]: key } as Record<L, string>;
        w = (...args: unknown[]): unknown => {
          const start = performance.now();
          const result = fn.apply(t, args);
          if (!(result instanceof Promise)) return result;
          return result.then(
            (v: unknown) => {
              duration.observe(labels, (performance.now() - start) / 1000);
              return v;
            },
            (err: unknown) => {
              duration.observe(labels, (performance.now() - start) / 1000);
              errors.inc(labels);
              throw err;
            },
          );
        };
        wrapped.set(key, w);
      }
      return w;
    },
  });
}
