// What every service group gets: the store, the job runner, the event emitter and the home folder.
import type { z } from 'zod';
import type { Api, EventName, EventPayload, MethodName } from '../../shared/api.js';
import type { Store } from '../store/index.js';
import type { JobRunner } from './job-runner.js';

export interface ServiceContext {
  readonly home: string;
  readonly store: Store;
  readonly jobs: JobRunner;
  emit<E extends EventName>(event: E, data: EventPayload<E>): void;
}

/** A method's implementation gets its params already parsed (defaults applied) by the input schema. */
export type Handler<M extends MethodName> = (params: z.output<Api[M]['input']>) => Promise<z.input<Api[M]['output']>> | z.input<Api[M]['output']>;
export type Handlers = { [M in MethodName]: Handler<M> };
export type HandlerGroup<K extends MethodName> = { [M in K]: Handler<M> };
