import { z } from 'zod';

/**
 * The one registry of error codes (DESIGN §6). Every REST error, socket ack and IPC answer uses a
 * code from here, so clients can branch on `code` and never on message text.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, message: 'The request is not valid.' },
  INVALID_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  UNAUTHENTICATED: { status: 401, message: 'Sign in first.' },
  INVALID_CREDENTIALS: { status: 401, message: 'Wrong username or password.' },
  INVALID_APP_KEY: { status: 401, message: 'The app channel key is missing or unknown.' },
  /** Issue 18: a call to the voice API (`/api/v1/voice/route|events`) without Kamailio's token. */
  INVALID_VOICE_TOKEN: { status: 401, message: 'The voice proxy token is missing or wrong.' },
  /**
   * Enterprise sign-in (OIDC, issue 17) did not complete: a wrong or used state, a flow started in
   * another browser, a code the provider refused, an ID token that failed its checks. Start again.
   */
  SSO_FAILED: { status: 401, message: 'Signing in with your organisation did not complete; start again.' },
  FORBIDDEN: { status: 403, message: 'You are not allowed to do this.' },
  NOT_FOUND: { status: 404, message: 'Not found.' },
  SESSION_NOT_FOUND: { status: 404, message: 'No such session.' },
  IDEMPOTENCY_CONFLICT: {
    status: 409,
    message: 'This clientMessageId was already used for a different message.',
  },
  SESSION_CLOSED: { status: 409, message: 'The session is closed.' },
  OFFER_TAKEN: { status: 409, message: 'Another agent already took this contact.' },
  NOT_ASSIGNED: { status: 409, message: 'This contact is not assigned to you.' },
  /** A customer rating (CSAT) asked for a conversation that is still open (issue 11). */
  SESSION_NOT_CLOSED: { status: 409, message: 'The conversation is still open; rate it once it is closed.' },
  /** A second rating of the same session (issue 11): the first one stands. */
  CSAT_ALREADY_GIVEN: { status: 409, message: 'This conversation was already rated.' },
  /** A rating after the survey window of the conversation closed (issue 15: `csat.surveyHours` after it was asked). */
  CSAT_WINDOW_EXPIRED: { status: 409, message: 'The time to rate this conversation has passed.' },
  // Transfers (issue 11). Not the sender's active contact: NOT_ASSIGNED.
  TRANSFER_NOT_FOUND: { status: 404, message: 'No such transfer.' },
  TRANSFER_TARGET_NOT_FOUND: { status: 404, message: 'No such agent or skill group to transfer to.' },
  TRANSFER_TARGET_NOT_IN_GROUP: { status: 409, message: 'That agent does not handle contacts of that skill group.' },
  TRANSFER_TO_SELF: { status: 409, message: 'You cannot transfer a contact to yourself.' },
  TRANSFER_PENDING: { status: 409, message: 'A transfer of this contact is already pending.' },
  TRANSFER_NOT_PENDING: { status: 409, message: 'The transfer is no longer pending: it was accepted, declined, cancelled or expired.' },
  TRANSFER_TARGET_UNAVAILABLE: {
    status: 409,
    message: 'Nobody there can take the contact now (offline, away or at capacity); try a cold transfer.',
  },
  // Supervision (issue 16, docs/supervision.md). Not allowed to supervise at all or that group: FORBIDDEN.
  /** The agent named is not signed in, or not in a skill group the lead supervises. */
  AGENT_NOT_FOUND: { status: 404, message: 'No such agent signed in to a skill group you supervise.' },
  /** A whisper needs an agent to whisper to: nobody holds the contact now. */
  NO_AGENT_ASSIGNED: { status: 409, message: 'No agent holds this contact now; add a note instead.' },
  // Continuity (issue 12).
  MERGE_SAME_CUSTOMER: { status: 409, message: 'These two are already one customer.' },
  MERGE_ALREADY_UNDONE: { status: 409, message: 'This merge was already undone.' },
  LINK_CONFLICT: { status: 409, message: 'Another customer already has this identifier; merge the two customers instead.' },
  // The WeChat official account channel (issue 12, docs/channels/wechat.md). A push refused with one
  // of these is never processed; WeChat retries a push it got no 200 for (3 times).
  WECHAT_ACCOUNT_NOT_FOUND: { status: 404, message: 'No such WeChat account on this server.' },
  WECHAT_ACCOUNT_INVALID: { status: 503, message: 'The WeChat account is misconfigured on this server.' },
  WECHAT_SIGNATURE_INVALID: { status: 401, message: 'The WeChat signature is missing or wrong.' },
  WECHAT_TIMESTAMP_STALE: { status: 401, message: 'The WeChat timestamp is outside the accepted window.' },
  WECHAT_MODE_REFUSED: { status: 403, message: "The push's encryption does not match the account's mode." },
  WECHAT_APPID_MISMATCH: { status: 403, message: 'The push was encrypted for another AppID.' },
  WECHAT_DECRYPT_FAILED: { status: 400, message: 'The encrypted push could not be decrypted.' },
  WECHAT_XML_MALFORMED: { status: 400, message: 'The body is not a WeChat push document.' },
  /** Retiring a key-encryption key that still wraps data keys (issue 14): let the re-wrap finish first. */
  // Privacy requests (issue 17).
  PRIVACY_REQUEST_NOT_FOUND: { status: 404, message: 'No such privacy request.' },
  PRIVACY_SELF_APPROVAL: { status: 403, message: 'A request must be approved by someone other than the requester.' },
  PRIVACY_REQUEST_NOT_PENDING: { status: 409, message: 'The request was already approved, rejected or has expired.' },
  EXPORT_NOT_READY: { status: 409, message: 'The export is not approved yet.' },
  EXPORT_GONE: { status: 410, message: 'The export was already downloaded or has expired.' },
  CUSTOMER_ERASED: { status: 410, message: "This customer's data was erased." },
  KEK_IN_USE: { status: 409, message: 'Data keys are still wrapped by this key-encryption key.' },
  // Web widget uploads (issue 13, docs/channels/web.md).
  UPLOAD_TOO_LARGE: { status: 413, message: 'The file is larger than the upload limit.' },
  UPLOAD_TYPE_REFUSED: { status: 415, message: 'This kind of file cannot be sent here.' },
  UPLOAD_EXECUTABLE: { status: 415, message: 'Programs and scripts cannot be sent.' },
  /** The file did not arrive in time (stalled, or cut off by the client): send it again. */
  UPLOAD_INCOMPLETE: { status: 408, message: 'The file did not arrive completely; send it again.' },
  /** A pre-chat form topic this server does not offer (issue 13). */
  UNKNOWN_TOPIC: { status: 400, message: 'No such topic.' },
  // App accounts and keys managed by admins, and images by URL (issue 13, docs/channels/app.md).
  APP_ACCOUNT_EXISTS: { status: 409, message: 'An app with this id already exists.' },
  APP_ACCOUNT_NOT_FOUND: { status: 404, message: 'No such app account.' },
  APP_KEY_NOT_FOUND: { status: 404, message: 'No such key of this app.' },
  APP_ACCOUNT_FROM_CONFIG: {
    status: 409,
    message: 'This app is defined in the server configuration (HUILIU_CONFIG); change it there.',
  },
  IMAGE_URL_REFUSED: {
    status: 400,
    message: 'The image URL is not allowed: https only, to a public address, with at most 3 redirects.',
  },
  IMAGE_FETCH_FAILED: { status: 502, message: 'The image could not be fetched from its URL.' },
  KB_CONFLICT: { status: 409, message: 'The knowledge base already has an entry for this intent in this language.' },
  CANNED_SHORTCUT_TAKEN: { status: 409, message: 'This shortcut is already used by another canned reply here.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  /** What-if (issue 11): a window longer than 31 days, or more contacts than one simulation takes. */
  SIMULATION_TOO_LARGE: { status: 400, message: 'The simulation is too large: shorten the window or the workload.' },
  KB_TOO_LARGE: { status: 413, message: 'The knowledge base would grow beyond its limits.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; slow down.' },
  INTERNAL: { status: 500, message: 'Something went wrong on the server.' },
  EVENT_INVALID: { status: 500, message: 'An event broke its schema (a server bug).' },
  NOT_READY: { status: 503, message: 'The server is not ready.' },
  /** Issue 14: the configured session store backend (HUILIU_STORE=redis: the Redis Cluster) cannot be reached at start. */
  STORE_UNREACHABLE: { status: 503, message: 'The session store cannot be reached.' },
  OVERLOADED: { status: 503, message: 'The server is busy; try again shortly.' },
  SHUTTING_DOWN: { status: 503, message: 'The server is shutting down.' },
  /**
   * A channel's long-lived link (the XMPP component, issue 12) is down on this node: a reply is
   * recorded `failed` with this code (the agent may send it again once the link is back).
   */
  CHANNEL_NOT_CONNECTED: { status: 503, message: 'The channel is not connected right now.' },
  /** A configured channel account whose settings or secrets are not valid: it is skipped, the server runs on. */
  CHANNEL_ACCOUNT_INVALID: { status: 500, message: 'A channel account is not configured correctly.' },
  // Speech (issue 18, docs/speech.md): ASR, TTS and speech emotion engines behind server/src/ai/speech.
  /** The configured speech engine is not there: its program is not installed, or no model/endpoint is configured. */
  SPEECH_ENGINE_UNAVAILABLE: { status: 503, message: 'The speech engine is not available on this server.' },
  /** The speech engine ran but failed (exit status, an HTTP error, output it could not read). */
  SPEECH_FAILED: { status: 502, message: 'The speech engine failed.' },
  /** The speech engine gave no answer within its time limit; the work was stopped. */
  SPEECH_TIMEOUT: { status: 504, message: 'The speech engine took too long.' },
  /** Audio longer or larger, or text longer, than the speech engine takes in one call. */
  SPEECH_INPUT_TOO_LARGE: { status: 413, message: 'The audio or text is too large for the speech engine.' },
  /** Audio the speech layer cannot read (not WAV/PCM, a codec it does not decode) or a language the engine has no model for. */
  SPEECH_INPUT_UNSUPPORTED: { status: 415, message: 'The speech engine cannot take this audio or language.' },
  /** Work the server itself called off (a model training superseded by a newer KB); never a client's fault. */
  CANCELLED: { status: 503, message: 'The work was cancelled.' },
  // Collision control (issue 15, docs/collision.md).
  /** A take-over is asked from the conversation's view: open it first (`session:view`). */
  NOT_VIEWING: { status: 409, message: 'Open this conversation before asking to take it over.' },
  /** A take-over of a contact you already hold. */
  TAKEOVER_OWN: { status: 409, message: 'You already hold this contact.' },
  TAKEOVER_PENDING: { status: 409, message: 'A take-over of this contact is already asked for.' },
  TAKEOVER_NOT_FOUND: { status: 404, message: 'No such take-over request for you.' },
  TAKEOVER_NOT_PENDING: { status: 409, message: 'The take-over request was already answered, expired or cancelled.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
export const ErrorCodeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);

export const ErrorInfoSchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  details: z.unknown().optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

/** The one error body shape on every REST route: `{error:{code,message,details?}}`. */
export const ErrorBodySchema = z.object({ error: ErrorInfoSchema });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** An error that carries a registry code; servers and the desktop bridge turn it into `ErrorInfo`. */
export class HuiliuError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ERROR_CODES[code].message);
    this.name = 'HuiliuError';
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return ERROR_CODES[this.code].status;
  }
  toInfo(): ErrorInfo {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** Answer shape for every socket ack and IPC call: `{ok:true,data}|{ok:false,error}`. */
export type Result<T> = { ok: true; data: T } | { ok: false; error: ErrorInfo };

export const ok = <T>(data: T): Result<T> => ({ ok: true, data });
export const fail = (code: ErrorCode, message?: string, details?: unknown): Result<never> => ({
  ok: false,
  error: new HuiliuError(code, message, details).toInfo(),
});

/** Turns zod issues into a short, field-naming detail list (never echoes the rejected values). */
export function zodDetails(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}
