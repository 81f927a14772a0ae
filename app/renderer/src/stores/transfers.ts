import type { TransferMode, TransferTarget, TransferView } from '../../../../common/api/transfers';
import type { TransferOffer, TransferTargets } from '../../../../common/socket/agent-events';
import type { Slice } from './types';
import { shownSessionId } from './shown';
import { errorKey } from '../error-text';

/**
 * Transfers (issue 11) as the workstation keeps them: warm transfers offered to me (the incoming
 * cards), my own pending ones (the banner with Cancel), the outcome to tell me once, and the
 * dialog's targets. The server is the source of truth: every change arrives as `transfer:updated`.
 */
export interface TransferSlice {
  /** Warm transfers offered to me, by transfer id. */
  incomingTransfers: Record<string, TransferOffer>;
  /** My pending warm transfers, by session id. */
  outgoingTransfers: Record<string, TransferView>;
  /** The last outcome of a transfer I sent (accepted, declined, expired, cancelled, routed), until dismissed. */
  transferNotice: TransferView | null;
  /** What the dialog offers for the open session (loaded when it opens). */
  transferTargets: TransferTargets | null;
  transferError: string | null;
  loadTransferTargets(sessionId: string): Promise<void>;
  /** Transfers the open session; true when the server took it. */
  requestTransfer(input: { to: TransferTarget; mode: TransferMode; note?: string }): Promise<boolean>;
  acceptTransfer(transferId: string): Promise<void>;
  declineTransfer(transferId: string, reason?: string): Promise<void>;
  cancelTransfer(transferId: string): Promise<void>;
  receiveTransferOffer(offer: TransferOffer): void;
  receiveTransferUpdate(transfer: TransferView): void;
  dismissTransferNotice(): void;
}

/** A failure as the store keeps it: words the UI translates when it shows them (error-text.ts). */
const describe = (error: unknown) => errorKey(error, 'noAnswer');

export const createTransferSlice: Slice<TransferSlice> = (set, get) => {
  /** The contact left me (a cold transfer, or a warm one accepted): out of my list and my view. */
  function letGo(sessionId: string): void {
    get().removeQueueItem(sessionId);
    if (get().openSessionId === sessionId) set({ openSessionId: null, detail: null, pending: [] });
  }
  const without = <T>(record: Record<string, T>, key: string) => {
    const next = { ...record };
    delete next[key];
    return next;
  };

  return {
    incomingTransfers: {},
    outgoingTransfers: {},
    transferNotice: null,
    transferTargets: null,
    transferError: null,

    async loadTransferTargets(sessionId) {
      const conn = get().connection;
      if (!conn) return;
      set({ transferTargets: null, transferError: null });
      try {
        const targets = await conn.request('transfer:targets', { sessionId });
        if (get().openSessionId === sessionId) set({ transferTargets: targets });
      } catch (error) {
        set({ transferError: describe(error) });
      }
    },

    async requestTransfer({ to, mode, note }) {
      const { connection } = get();
      // The dialog on screen transfers the shown conversation, not one being opened meanwhile.
      const sessionId = shownSessionId(get());
      if (!connection || !sessionId) return false;
      set({ transferError: null });
      try {
        // Not retried: a second transfer would be refused as pending, or move a contact that already left.
        const view = await connection.request('session:transfer', { sessionId, to, mode, ...(note ? { note } : {}) }, { retries: 0 });
        if (view.status === 'pending') set((s) => ({ outgoingTransfers: { ...s.outgoingTransfers, [view.sessionId]: view } }));
        else {
          letGo(view.sessionId);
          set({ transferNotice: view });
        }
        return true;
      } catch (error) {
        set({ transferError: describe(error) });
        return false;
      }
    },

    async acceptTransfer(transferId) {
      const conn = get().connection;
      if (!conn) return;
      set({ workError: null });
      try {
        const detail = await conn.request('transfer:accept', { transferId }, { retries: 0 });
        set((s) => ({ incomingTransfers: without(s.incomingTransfers, transferId) }));
        get().upsertQueueItem(detail);
        set({ openSessionId: detail.id, detail, pending: [], queueFilter: 'mine' });
      } catch (error) {
        // Gone meanwhile (declined by time-out, cancelled): the card goes, the reason shows.
        set((s) => ({ incomingTransfers: without(s.incomingTransfers, transferId), workError: describe(error) }));
      }
    },

    async declineTransfer(transferId, reason) {
      const conn = get().connection;
      if (!conn) return;
      set((s) => ({ incomingTransfers: without(s.incomingTransfers, transferId) }));
      try {
        await conn.request('transfer:decline', { transferId, ...(reason ? { reason } : {}) });
      } catch {
        /* no longer pending: nothing to decline */
      }
    },

    async cancelTransfer(transferId) {
      const conn = get().connection;
      if (!conn) return;
      try {
        const view = await conn.request('transfer:cancel', { transferId });
        get().receiveTransferUpdate(view);
      } catch (error) {
        set({ transferError: describe(error) });
      }
    },

    receiveTransferOffer(offer) {
      set((s) => ({ incomingTransfers: { ...s.incomingTransfers, [offer.transfer.id]: offer } }));
    },

    receiveTransferUpdate(transfer) {
      const me = get().user?.id;
      if (transfer.offeredTo?.id === me && transfer.status !== 'pending')
        set((s) => ({ incomingTransfers: without(s.incomingTransfers, transfer.id) }));
      if (transfer.from.id !== me) return;
      if (transfer.status === 'pending') {
        set((s) => ({ outgoingTransfers: { ...s.outgoingTransfers, [transfer.sessionId]: transfer } }));
        return;
      }
      // Told once: an update for a transfer already settled here (the ack came first) changes nothing.
      if (get().transferNotice?.id === transfer.id && get().transferNotice?.status === transfer.status) return;
      set((s) => ({ outgoingTransfers: without(s.outgoingTransfers, transfer.sessionId), transferNotice: transfer }));
      if (transfer.status === 'accepted' || transfer.status === 'routed') letGo(transfer.sessionId);
      else if (get().detail?.transfer?.id === transfer.id) {
        // The open conversation's own record of the pending transfer is over too.
        set((s) => (s.detail ? { detail: { ...s.detail, transfer: transfer } } : {}));
      }
    },

    dismissTransferNotice() {
      set({ transferNotice: null });
    },
  };
};
