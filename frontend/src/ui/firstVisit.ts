// Whether this browser has logged in to this server before: a first visit opens on Register.
const KEY = 'wahub.known';

export function hasLoggedInBefore(): boolean {
  try {
    return window.localStorage.getItem(KEY) === '1' || window.localStorage.getItem('wahub.tokens') !== null;
  } catch {
    return true;
  }
}

export function rememberLoggedIn(): void {
  try {
    window.localStorage.setItem(KEY, '1');
  } catch {
    /* private mode: nothing to remember */
  }
}
