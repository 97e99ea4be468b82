// Electron main: one locked-down window, the renderer served from a custom protocol, the API on one
// IPC channel and images on `distill-media://`. All real work (store, imports, jobs) happens in the
// services host, a plain Node child (see services-host.ts); this process only routes messages.
import { app, BrowserWindow, dialog, ipcMain, net, protocol, session, type IpcMainInvokeEvent } from 'electron';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { api, type MethodName } from '../../shared/api.js';
import { HostClient, MediaError, defaultAppRoot } from './host-client.js';
import { errorMessage } from '../services/wire.js';
import { CALL_CHANNEL, EVENT_CHANNEL } from './channels.js';
import { APP_HOST, APP_SCHEME, MEDIA_SCHEME, appFileFor, isAppUrl, mediaAskFor, requestAllowed } from './security.js';

const appRoot = defaultAppRoot();
const outDir = path.join(appRoot, 'out');
const rendererDir = path.join(outDir, 'renderer');
/** electron-vite dev sets this to its dev server; never honoured in a packaged app. */
const devUrl = !app.isPackaged && process.env.ELECTRON_RENDERER_URL ? process.env.ELECTRON_RENDERER_URL : undefined;

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  `img-src 'self' data: blob: ${MEDIA_SCHEME}:`,
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

// Must run before `ready`: standard + secure so the renderer gets a real origin and `'self'` works.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
  { scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);
app.enableSandbox();

let host: HostClient | null = null;
let win: BrowserWindow | null = null;

/** A system Node for the services host; Electron-as-Node only as a last resort (native modules may not load). */
function nodeForHost(): { nodePath: string; env: NodeJS.ProcessEnv } {
  const explicit = process.env.DISTILL_NODE;
  if (explicit) return { nodePath: explicit, env: {} };
  try {
    const found = execFileSync(process.platform === 'win32' ? 'where' : 'which', ['node'], { encoding: 'utf8' }).split(/\r?\n/)[0]?.trim();
    if (found) return { nodePath: found, env: {} };
  } catch {
    /* not on PATH */
  }
  return { nodePath: process.execPath, env: { ELECTRON_RUN_AS_NODE: '1' } };
}

function home(): string {
  return process.env.DISTILL_HOME || path.join(app.getPath('userData'), 'home');
}

/** IPC is accepted only from our window's top frame showing our own renderer (Electron's security checklist: validate the sender). */
function trustedSender(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  if (!frame || !win || win.isDestroyed() || event.sender !== win.webContents) return false;
  // Top-level frame only: no iframe (there should be none) may speak for the app.
  if (frame.parent !== null) return false;
  return isAppUrl(frame.url, devUrl);
}

function registerIpc(): void {
  ipcMain.handle(CALL_CHANNEL, async (event, method: unknown, params: unknown) => {
    // An envelope instead of a rejection: Electron would wrap thrown errors in its own text.
    if (!trustedSender(event)) return { ok: false, error: 'refused: untrusted sender' };
    if (typeof method !== 'string' || !Object.hasOwn(api, method)) return { ok: false, error: `unknown method ${String(method)}` };
    const parsed = api[method as MethodName].input.safeParse(params ?? {});
    if (!parsed.success) return { ok: false, error: errorMessage(parsed.error) };
    try {
      if (!host) throw new Error('the services process is not running');
      return { ok: true, result: await host.call(method, parsed.data) };
    } catch (e) {
      return { ok: false, error: errorMessage(e) };
    }
  });
}

function registerProtocols(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const file = appFileFor(rendererDir, request.url);
    if (!file) return new Response('not found', { status: 404 });
    const res = await net.fetch(pathToFileURL(file).toString(), { bypassCustomProtocolHandlers: true });
    const headers = new Headers(res.headers);
    if (file.endsWith('.html')) headers.set('Content-Security-Policy', CSP);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(res.body, { status: res.status, headers });
  });

  // distill-media://thumb/<id>, distill-media://image/<id>, distill-media://file/?path=… — the host
  // resolves each through the same path guard as `distill serve` (dataset folders + thumbnail cache).
  protocol.handle(MEDIA_SCHEME, async (request) => {
    const ask = mediaAskFor(request.url);
    if (!ask) return new Response('not found', { status: 404 });
    try {
      if (!host) throw new MediaError('the services process is not running', 503);
      const media = await host.media(ask.kind, ask.arg);
      const res = await net.fetch(pathToFileURL(media.path).toString(), { bypassCustomProtocolHandlers: true });
      return new Response(res.body, {
        status: res.status,
        headers: { 'Content-Type': media.contentType, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'private, max-age=60' },
      });
    } catch (e) {
      const status = e instanceof MediaError ? e.status : 500;
      return new Response((e as Error).message, { status });
    }
  });
}

function lockDownSessions(): void {
  const s = session.defaultSession;
  s.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  s.setPermissionCheckHandler(() => false);
  // No remote content: only our schemes, inline data, and the dev server in development.
  s.webRequest.onBeforeRequest((details, cb) => cb({ cancel: !requestAllowed(details.url, devUrl) }));
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

function createWindow(): void {
  win = new BrowserWindow({
    width: 1360,
    height: 880,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Distill Studio',
    backgroundColor: '#101418',
    autoHideMenuBar: true,
    webPreferences: {
      preload: path.join(outDir, 'preload', 'index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      // A folder dropped outside the drop zone must not navigate the window away.
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win?.show());
  win.webContents.on('render-process-gone', (_e, d) => {
    process.stderr.write(`distill: renderer gone (${d.reason}); reopening\n`);
  });
  win.on('closed', () => {
    win = null;
  });
  void win.loadURL(devUrl ?? `${APP_SCHEME}://${APP_HOST}/index.html`);
}

function forwardEvents(h: HostClient): void {
  h.onEvent((event, data) => {
    if (win && !win.isDestroyed() && !win.webContents.isDestroyed()) win.webContents.send(EVENT_CHANNEL, event, data);
  });
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  // Starting the app again (or clicking the dock icon) brings the window back; runs kept going.
  app.on('second-instance', () => {
    if (!win) createWindow();
    else {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.on('activate', () => {
    if (!win) createWindow();
  });
  app.on('window-all-closed', () => {
    // A run survives closing the window: stay alive (windowless) until the jobs finish.
    void (async () => {
      const running = host?.alive ? await host.runningJobs().catch(() => 0) : 0;
      if (running === 0) return app.quit();
      process.stdout.write(`Distill Studio: ${running} job(s) still running; start the app again to reopen the window.\n`);
      const timer = setInterval(() => {
        void (host?.alive ? host.runningJobs().catch(() => 0) : Promise.resolve(0)).then((n) => {
          if (n === 0 && !win) {
            clearInterval(timer);
            app.quit();
          }
        });
      }, 5000);
    })();
  });
  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting || !host) return;
    event.preventDefault();
    quitting = true;
    void host.close().finally(() => app.quit());
  });

  await app.whenReady();
  lockDownSessions();
  registerProtocols();
  registerIpc();
  try {
    const node = nodeForHost();
    host = await HostClient.start({ home: home(), appRoot, nodePath: node.nodePath, env: node.env });
    forwardEvents(host);
  } catch (e) {
    dialog.showErrorBox(
      'Distill Studio could not start its services',
      `${(e as Error).message}\n\nInstall Node.js 20+ on PATH (or set DISTILL_NODE), or run \`npm run serve\` and open the printed URL.`,
    );
    app.exit(1);
    return;
  }
  createWindow();
}

void main();
