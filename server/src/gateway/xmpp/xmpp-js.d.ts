/**
 * The parts of xmpp.js 0.13 (`@xmpp/component`, and `@xmpp/client` in tests) this server uses; the
 * packages ship no types. Elements are ltx elements (`@xmpp/xml`).
 */
declare module '@xmpp/component' {
  import type { EventEmitter } from 'node:events';

  export class Element {
    constructor(name: string, attrs?: Record<string, string | undefined>);
    name: string;
    attrs: Record<string, string | undefined>;
    children: (Element | string)[];
    parent: Element | null;
    is(name: string, xmlns?: string): boolean;
    getName(): string;
    getNS(): string | undefined;
    getAttr(name: string): string | undefined;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getText(): string;
    getChildText(name: string, xmlns?: string): string | null;
    append(...nodes: (Element | string)[]): Element;
    toString(): string;
  }

  /** The streaming parser every xmpp.js connection reads its socket with (ltx underneath). */
  export class Parser extends EventEmitter {
    write(data: string): void;
    end(data?: string): void;
  }

  export interface XmlFactory {
    (name: string, attrs?: Record<string, string | undefined> | null, ...children: (Element | string | null | undefined)[]): Element;
    Element: typeof Element;
    Parser: typeof Parser;
  }
  export const xml: XmlFactory;

  export interface Jid {
    toString(): string;
  }

  export interface Component extends EventEmitter {
    status: string;
    jid: Jid | null;
    reconnect: { stop(): void };
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(element: Element): Promise<void>;
    write(data: string): Promise<void>;
    /** Closes the socket now (no stream footer). */
    disconnect(timeout?: number): Promise<void>;
    socket: { destroy(): void } | null;
  }

  export function component(options: { service: string; domain: string; password: string }): Component;
}

declare module '@xmpp/client' {
  import type { EventEmitter } from 'node:events';
  import type { Element, XmlFactory } from '@xmpp/component';

  export const xml: XmlFactory;

  export interface Client extends EventEmitter {
    status: string;
    jid: { toString(): string } | null;
    reconnect: { stop(): void };
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(element: Element): Promise<void>;
    write(data: string): Promise<void>;
  }

  export function client(options: { service: string; domain: string; username?: string; password?: string; resource?: string }): Client;
}
