// Shell: dark sidebar with the pages, the current page on the right.
import { Sidebar } from './components/Sidebar.js';
import { useRoute, type Page } from './router.js';
import { DatasetsPage } from './pages/DatasetsPage.js';
import { BrowserPage } from './pages/BrowserPage.js';
import { TeachersPage } from './pages/TeachersPage.js';
import { NewRunPage } from './pages/NewRunPage.js';
import { RunsPage } from './pages/RunsPage.js';
import { RunPage } from './pages/RunPage.js';
import { ComparePage } from './pages/ComparePage.js';
import { AgreementPage } from './pages/AgreementPage.js';
import { ExportPage } from './pages/ExportPage.js';
import type { JSX } from 'react';
import { useApi, useConnection } from './api-context.js';

const VIEWS: Record<Page, (p: { params: URLSearchParams }) => JSX.Element> = {
  datasets: DatasetsPage,
  browser: BrowserPage,
  teachers: TeachersPage,
  'new-run': NewRunPage,
  runs: RunsPage,
  run: RunPage,
  compare: ComparePage,
  agreement: AgreementPage,
  export: ExportPage,
};

export function App() {
  const route = useRoute();
  const View = VIEWS[route.page];
  const client = useApi();
  const conn = useConnection();
  return (
    <div className="app">
      <Sidebar page={route.page} />
      <main className="content" data-testid={`page-${route.page}`}>
        {client.transport === 'websocket' && conn === 'closed' && (
          <div className="offline-banner" data-testid="offline">
            Not connected to <code>distill serve</code> — retrying. If it keeps failing, open the URL the command printed (it carries the access token).
          </div>
        )}
        <View key={route.page} params={route.params} />
      </main>
    </div>
  );
}
