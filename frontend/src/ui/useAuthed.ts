import { useEffect, useState } from 'preact/hooks';
import { auth } from '../services';

export function useAuthed(): boolean {
  const [authed, setAuthed] = useState(auth.loggedIn);
  useEffect(() => auth.subscribe((t) => setAuthed(t !== null)), []);
  return authed;
}
