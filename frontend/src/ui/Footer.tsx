import { useEffect, useState } from 'preact/hooks';
import { api } from '../services';
import { useStore } from './hooks';
import { engineSummary } from './serverInfo';

/** Which server this is: its version, the engines and nodes its sessions run on, the docs. */
export function Footer() {
  const [version, setVersion] = useState('');
  const sessions = useStore((s) => s.sessions);
  useEffect(() => {
    api.serverVersion().then(setVersion, () => setVersion(''));
  }, []);
  const { engines, nodes } = engineSummary(Object.values(sessions));
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
