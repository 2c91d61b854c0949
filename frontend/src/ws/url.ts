/** ws(s)://host/api/v1/ws?token=…&since=… for the page's own origin. */
export function wsUrl(location: { protocol: string; host: string }, token: string, since: number | null): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let url = `${scheme}//${location.host}/api/v1/ws?token=${encodeURIComponent(token)}`;
  if (since !== null) url += `&since=${since}`;
  return url;
}
