// Renderer entry: picks the transport (preload bridge or WebSocket) and mounts the app.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { createApiClient } from './api-client.js';
import { ApiProvider } from './api-context.js';
import { App } from './App.js';

async function boot(): Promise<void> {
  // Development only (`vite dev`, URL with ?mock): a fake backend, dropped from production builds.
  if (import.meta.env.DEV && new URLSearchParams(location.search).has('mock')) {
    const { installMockApi } = await import('./dev/mock-api.js');
    await installMockApi();
  }
  const client = createApiClient();
  const root = document.getElementById('root');
  if (!root) throw new Error('missing #root');
  createRoot(root).render(
    <StrictMode>
      <ApiProvider client={client}>
        <App />
      </ApiProvider>
    </StrictMode>,
  );
}

void boot();
