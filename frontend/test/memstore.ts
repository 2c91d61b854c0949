import type { TokenStorage, Tokens } from '../src/api/auth';

export function memoryStorage(initial: Tokens | null = null): TokenStorage & { value: Tokens | null } {
  const box = {
    value: initial,
    load: () => box.value,
    save: (t: Tokens | null) => {
      box.value = t;
    },
  };
  return box;
}
