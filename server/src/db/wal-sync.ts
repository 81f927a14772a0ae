import { closeSync, existsSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';

/**
 * Makes commits durable without blocking the thread that made them (issue 8). The write connection
 * runs WAL with `synchronous=NORMAL`, so COMMIT appends its frames to `<db>-wal` with no fsync; this
 * class then `fdatasync`s that file on libuv's thread pool, and a commit counts as durable once a sync
 * that STARTED after it finished. That is the guarantee `synchronous=FULL` gives (the WAL synced at
 * the end of each commit: https://www.sqlite.org/pragma.html#pragma_synchronous), moved off the
 * thread: while one sync runs, the next batch's writes execute, and one sync covers every commit
 * made before it started. Checkpoints and WAL restarts stay SQLite's own (NORMAL syncs the WAL before
 * a checkpoint, the database after it, and the WAL header when the WAL is reused).
 */
export class WalSync {
  private fd: number | null = null;
  /** A sync is in flight (it settles the waiters it took when it started). */
  private syncing = false;
  /** Waiters whose commit finished while a sync was running: they need the next one. */
  private next: Waiter[] = [];
  /**
   * The first sync error, kept: after a failed fsync the kernel may have dropped dirty WAL pages, and
   * a later sync that succeeds proves nothing about them (WAL frames are checksummed in a chain, so a
   * hole can void every later commit on recovery). Fail-stop, like PostgreSQL since 2018: every later
   * `durable()` rejects with it, and the owner must reopen the database.
   */
  private failed: unknown = null;
  /** `closeSync` ran while a sync was in flight: its file is closed when that sync ends. */
  private closing = false;

  /** @param walPath the database's WAL file (`<db path>-wal`); opened at the first sync. */
  constructor(private readonly walPath: string) {}

  /**
   * Resolves once everything this connection committed before the call is on disk; rejects with the
   * fdatasync error (EIO…), in which case the caller must not ack — then and for every call after it.
   */
  durable(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.next.push({ resolve, reject });
      if (!this.syncing) this.start();
    });
  }

  /**
   * For a thread whose only job is writing (the session writer's worker): when no sync is in flight
   * and none has failed, `fdatasync`s the WAL right here and answers true — everything this connection
   * committed before the call is then on disk, without the two thread hops of a sync on libuv's pool.
   * False: use `durable()` (a sync is running and will be followed by another, or one failed, and then
   * `durable()` rejects with that error — a failure here is kept like any other, fail-stop).
   */
  syncNowIfIdle(): boolean {
    if (this.failed || this.syncing || this.closing) return false;
    try {
      fdatasyncSync((this.fd ??= openSync(this.walPath, 'r+')));
      return true;
    } catch (error) {
      this.failed = error;
      return false;
    }
  }

  private start(): void {
    const waiters = this.next;
    this.next = [];
    this.syncing = true;
    let fd: number;
    try {
      // The WAL exists once the connection has committed; it is never deleted while the connection is open.
      fd = this.fd ??= openSync(this.walPath, 'r+');
    } catch (error) {
      this.finish(waiters, error);
      return;
    }
    fdatasync(fd, (error) => this.finish(waiters, error));
  }

  private finish(waiters: Waiter[], error: unknown): void {
    if (error) this.failed ??= error;
    if (this.failed) {
      // Those waiting for the next sync are refused too: nothing after a failed sync is acked.
      // A loop, not push(...): under load thousands may be waiting, and a spread that large overflows the stack.
      for (const w of this.next) waiters.push(w);
      this.next = [];
      error = this.failed;
    }
    for (const w of waiters) {
      if (error) w.reject(error);
      else w.resolve();
    }
    this.syncing = false;
    if (this.next.length > 0) this.start();
    else if (this.closing && this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }

  /**
   * For owners whose `close` is synchronous (the KPI log): syncs the WAL on this thread now (one
   * fdatasync covers every commit before it), answers nobody new, and closes the file once a sync in
   * flight ends. Call it before the connection closes.
   * @throws the fdatasync error (EIO …)
   */
  closeSync(): void {
    this.closing = true;
    if (existsSync(this.walPath)) {
      const fd = openSync(this.walPath, 'r+');
      try {
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    if (!this.syncing && this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }

  /** Waits for the syncs in flight, then closes the file (before the connection closes). */
  async close(): Promise<void> {
    if (this.syncing || this.next.length) await this.durable().catch(() => undefined);
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}
