// Entry of a stream's worker thread: the engine is TypeScript, loaded through tsx (a runtime dependency, as the CLI
// and `npm run worker` load it).
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
