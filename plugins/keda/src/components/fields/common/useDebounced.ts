import { useEffect, useState } from 'react';

/**
 * `value` once it has not changed for `delayMs`: the plan preview asks the
 * backend when the person stops typing, not on every key.
 */
export function useDebounced<T>(value: T, delayMs: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return debounced;
}
