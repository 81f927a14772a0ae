import { z } from 'zod';
import { MAX_TEXT_LENGTH } from '../message/envelope';
import { optionalNameSchema, visibleTextSchema } from '../text/text';

/**
 * JSON frames on `wss://…/channels/web` (DESIGN §6, §7). Resumable: the widget keeps a visitor token
 * and its last `seq`; on reconnect it says `hello` with both and receives exactly what it missed.
 */
export const WIDGET_PATH = '/channels/web';

export const WidgetClientFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    /** A token this server issued earlier; any other is replaced by a fresh one. */
    visitorToken: z.string().min(16).max(128).optional(),
    /** Optional metadata: a blank, invisible or mistyped name is dropped, a long one cut by grapheme. */
    name: optionalNameSchema(64),
    /** The conversation `lastSeq` counts in; a different or missing one replays from the start. */
    conversationId: z.uuid().optional(),
    lastSeq: z.number().int().min(0).optional(),
  }),
  z.object({
    type: z.literal('message'),
    clientMessageId: z.string().min(8).max(128),
    text: visibleTextSchema(MAX_TEXT_LENGTH),
    sentAt: z.iso.datetime({ offset: true }).optional(),
  }),
  z.object({ type: z.literal('ping'), t: z.number().optional() }),
]);
export type WidgetClientFrame = z.infer<typeof WidgetClientFrameSchema>;

export interface WidgetMessage {
  id: string;
  seq: number;
  direction: 'in' | 'out';
  text: string;
  sentAt: string;
  clientMessageId: string;
}

export type WidgetServerFrame =
  | {
      type: 'welcome';
      visitorToken: string;
      sessionId: string | null;
      conversationId: string | null;
      heartbeatMs: number;
    }
  | { type: 'ack'; clientMessageId: string; messageId: string; seq: number; sessionId: string; conversationId: string }
  | { type: 'message'; message: WidgetMessage }
  | { type: 'status'; status: 'waiting' | 'agent-joined' | 'closed'; agentName?: string }
  | { type: 'pong'; t?: number }
  | { type: 'error'; code: string; message: string; clientMessageId?: string };
