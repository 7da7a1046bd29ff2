// A value once it has stopped changing for a moment: the cart while the clerk types, the
// text an item field asks suggestions for.
import { useEffect, useState } from 'react';

/** The value, once it has stopped changing for `ms`. */
export function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  const json = JSON.stringify(value);
  useEffect(() => {
    const id = setTimeout(() => setSettled(JSON.parse(json) as T), ms);
    return () => clearTimeout(id);
  }, [json, ms]);
  return settled;
}
