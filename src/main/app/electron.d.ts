// Electron is an optional dependency whose binary (and so its package) cannot be installed on every
// machine; this is the small subset of its API that src/main/app and src/preload use, so typecheck
// passes without it. An ambient module declaration wins over node_modules resolution, so this stays
// correct (if narrower) where the real package is installed. Delete it to type against the real API.
declare module 'electron' {
  interface WebPreferences {
    preload?: string;
    contextIsolation?: boolean;
    sandbox?: boolean;
    nodeIntegration?: boolean;
    nodeIntegrationInWorker?: boolean;
    nodeIntegrationInSubFrames?: boolean;
    webSecurity?: boolean;
    allowRunningInsecureContent?: boolean;
    webviewTag?: boolean;
    navigateOnDragDrop?: boolean;
    spellcheck?: boolean;
  }
  interface BrowserWindowConstructorOptions {
    width?: number;
    height?: number;
    minWidth?: number;
    minHeight?: number;
    show?: boolean;
    title?: string;
    backgroundColor?: string;
    autoHideMenuBar?: boolean;
    webPreferences?: WebPreferences;
  }
  interface WebFrameMain {
    readonly url: string;
    readonly origin: string;
    readonly top: WebFrameMain | null;
    readonly parent: WebFrameMain | null;
  }
  interface Event {
    preventDefault(): void;
  }
  interface WebContents {
    readonly id: number;
    readonly mainFrame: WebFrameMain;
    send(channel: string, ...args: unknown[]): void;
    isDestroyed(): boolean;
    on(event: 'will-navigate' | 'will-redirect', listener: (event: Event, url: string) => void): this;
    on(event: 'will-attach-webview', listener: (event: Event) => void): this;
    on(event: 'render-process-gone', listener: (event: Event, details: { reason: string; exitCode: number }) => void): this;
    setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' } | { action: 'allow' }): void;
    openDevTools(options?: { mode: 'detach' | 'right' | 'bottom' | 'undocked' }): void;
  }
  class BrowserWindow {
    constructor(options?: BrowserWindowConstructorOptions);
    static getAllWindows(): BrowserWindow[];
    readonly webContents: WebContents;
    loadURL(url: string): Promise<void>;
    show(): void;
    focus(): void;
    restore(): void;
    isMinimized(): boolean;
    isDestroyed(): boolean;
    on(event: 'closed' | 'ready-to-show', listener: () => void): this;
    once(event: 'ready-to-show', listener: () => void): this;
  }
  interface IpcMainInvokeEvent {
    readonly sender: WebContents;
    readonly senderFrame: WebFrameMain | null;
  }
  const ipcMain: {
    handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown> | unknown): void;
    removeHandler(channel: string): void;
  };
  interface CustomScheme {
    scheme: string;
    privileges?: {
      standard?: boolean;
      secure?: boolean;
      bypassCSP?: boolean;
      allowServiceWorkers?: boolean;
      supportFetchAPI?: boolean;
      corsEnabled?: boolean;
      stream?: boolean;
      codeCache?: boolean;
    };
  }
  const protocol: {
    registerSchemesAsPrivileged(schemes: CustomScheme[]): void;
    handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void;
  };
  const net: {
    fetch(input: string, init?: RequestInit & { bypassCustomProtocolHandlers?: boolean }): Promise<Response>;
  };
  interface Session {
    setPermissionRequestHandler(
      handler: ((webContents: WebContents, permission: string, callback: (granted: boolean) => void) => void) | null,
    ): void;
    setPermissionCheckHandler(handler: ((webContents: WebContents | null, permission: string) => boolean) | null): void;
    webRequest: {
      onBeforeRequest(
        listener: (details: { url: string }, callback: (response: { cancel?: boolean }) => void) => void,
      ): void;
    };
  }
  const session: { readonly defaultSession: Session };
  const app: {
    readonly isPackaged: boolean;
    whenReady(): Promise<void>;
    quit(): void;
    exit(code?: number): void;
    enableSandbox(): void;
    getAppPath(): string;
    getPath(name: 'userData' | 'home' | 'temp'): string;
    getVersion(): string;
    requestSingleInstanceLock(): boolean;
    on(event: 'window-all-closed' | 'activate' | 'second-instance', listener: () => void): typeof app;
    on(event: 'before-quit' | 'will-quit', listener: (event: Event) => void): typeof app;
    on(event: 'web-contents-created', listener: (event: Event, contents: WebContents) => void): typeof app;
  };
  const dialog: {
    showErrorBox(title: string, content: string): void;
  };

  // Preload side.
  interface IpcRendererEvent {
    readonly sender: unknown;
  }
  const ipcRenderer: {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>;
    on(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): unknown;
    removeListener(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): unknown;
  };
  const contextBridge: {
    exposeInMainWorld(apiKey: string, api: unknown): void;
  };
  const webUtils: {
    getPathForFile(file: File): string;
  };
}
