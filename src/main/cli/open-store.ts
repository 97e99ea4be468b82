// Opens the store for a command: --home, else $DISTILL_HOME, else the app's data dir.
import { Store } from '../store/index.js';

export function openStore(home: string | undefined): Store {
  return Store.open(home);
}
