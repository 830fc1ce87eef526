// A tedious Connection takes one request at a time. Its makeRequest refuses any request unless the connection is
// in the LoggedIn state (tedious/lib/connection.js, makeRequest):
//   RequestError('Requests can only be made in the LoggedIn state, not the SentClientRequest state', 'EINVALIDSTATE')
// and a request holds the connection from the moment it is sent until its last row and its DONE token have been
// read (a streaming SELECT holds it until the rows are consumed). TDS itself (MS-TDS 2.2.1, "a client can send one
// request at a time" without MARS, which tedious does not implement) says the same. The modelled sessions go through
// this guard so that a caller sending a second request before the first has answered fails here exactly as it fails
// on a real server.
import type { Readable } from "node:stream";
import { RequestError } from "tedious";

const MAX_PARAMETERS = 2100;

export class OneRequestAtATime {
  private current: string | null = null;

  /** Sends one request: the connection stays busy until `fn` has answered, at least until the next turn of the
   *  event loop (a server answers over the network, never in the same tick). */
  async run<T>(what: string, fn: () => T | Promise<T>): Promise<T> {
    this.begin(what);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      return await fn();
    } finally {
      this.current = null;
    }
  }

  /** A statement with its parameters: refused as SQL Server refuses more than 2,100 parameters in one request
   *  ("Maximum capacity specifications for SQL Server", parameters per procedure, which sp_executesql is; error
   *  8003, "The incoming request has too many parameters. The server supports a maximum of 2100 parameters."). */
  send<T>(q: { sql: string; params: readonly unknown[] }, fn: () => T | Promise<T>): Promise<T> {
    if (q.params.length > MAX_PARAMETERS)
      return Promise.reject(new RequestError(`The incoming request has too many parameters. The server supports a maximum of ${MAX_PARAMETERS} parameters. Reduce the number of parameters and resend the request. (model: ${q.params.length} sent)`, "EREQUEST"));
    return this.run(q.sql, fn);
  }

  /** A streaming request: busy until its rows have been read to the end (or the stream is torn down). */
  hold(what: string, rows: Readable): Readable {
    this.begin(what);
    const free = () => {
      this.current = null;
    };
    rows.once("end", free);
    rows.once("close", free);
    rows.once("error", free);
    return rows;
  }

  private begin(what: string) {
    if (this.current !== null) {
      const e = new RequestError("Requests can only be made in the LoggedIn state, not the SentClientRequest state", "EINVALIDSTATE");
      e.message += ` (model: "${what.slice(0, 80)}" sent while "${this.current.slice(0, 80)}" was still running)`;
      throw e;
    }
    this.current = what;
  }
}
