import type cassandra from 'cassandra-driver';
import type { CqlClient } from '../connect/cluster-client.js';
import type { RateLimiter } from './rate-limiter.js';
import type { TokenRange } from './token-ring.js';

export interface Page {
  readonly rows: readonly cassandra.types.Row[];
  /** Where the next page starts; undefined on the last page. */
  readonly nextState: string | undefined;
  /**
   * When the page was asked for (ms since the epoch). The cluster computes remaining TTLs when it
   * starts the query, so this (not the arrival, which can be seconds later) is when they were true.
   */
  readonly requestedAt: number;
}

export interface PageReaderOptions {
  readonly client: CqlClient;
  /** A SELECT ending in `WHERE token(pk) > ? AND token(pk) <= ?` (plus any extra condition). */
  readonly query: string;
  readonly range: TokenRange;
  readonly fetchSize: number;
  readonly consistency: number;
  /** Page state (hex) saved in the checkpoint, to resume mid-range. */
  readonly resumeState: string | undefined;
  readonly limiter?: RateLimiter;
}

/**
 * Reads one token range page by page with the driver's manual paging, fetching the next page
 * while the caller works on the current one (one page of read-ahead, so memory stays bounded).
 */
export async function* readPages(options: PageReaderOptions): AsyncGenerator<Page> {
  const fetch = async (state: string | undefined): Promise<Page> => {
    const requestedAt = Date.now();
    const result = await options.client.execute(options.query, [options.range.start, options.range.end], {
      prepare: true,
      fetchSize: options.fetchSize,
      consistency: options.consistency,
      ...(state === undefined ? {} : { pageState: state }),
    });
    await options.limiter?.acquire(result.rows.length);
    return { rows: result.rows, nextState: result.pageState ?? undefined, requestedAt };
  };
  let next: Promise<Page> | undefined = fetch(options.resumeState);
  while (next !== undefined) {
    const page: Page = await next;
    next = page.nextState === undefined ? undefined : fetch(page.nextState);
    // A read-ahead that fails while the caller is busy must not become an unhandled rejection.
    next?.catch(() => undefined);
    yield page;
  }
}
