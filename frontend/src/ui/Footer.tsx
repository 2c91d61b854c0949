import { useEffect, useState } from 'preact/hooks';
import type { ServerInfo } from '../api/types';
import { useStore } from './hooks';
import { engineSummary } from './serverInfo';
import { serverInfo } from './serverInfoLoad';

/** Which server this is: its version, the engines and nodes its sessions run on, the docs. */
export function Footer() {
  const [info, setInfo] = useState<ServerInfo | null>(null);
  const sessions = useStore((s) => s.sessions);
  useEffect(() => {
    void serverInfo().then(setInfo);
  }, []);
  const summary = engineSummary(Object.values(sessions));
  const version = info?.version ?? '';
  const engines = info ? [info.engine] : summary.engines;
  const nodes = info?.node ? [info.node] : summary.nodes;
  return (
    <footer class="footer" data-testid="server-info">
      <span>wahub{version ? ` ${version}` : ''}</span>
      <span>Engine: {engines.length ? engines.join(', ') : 'shown once a session exists'}</span>
      {nodes.length > 0 && <span>Node: {nodes.join(', ')}</span>}
      <a href="/api/docs" target="_blank" rel="noopener">REST API documentation</a>
      <a href="/api/openapi.json" target="_blank" rel="noopener">OpenAPI document</a>
    </footer>
  );
}
